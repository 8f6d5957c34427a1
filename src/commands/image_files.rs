//! `image tree` and `image mount`/`unmount`: an image's layers, drawn or shown as files.

use crate::cli::{ImageMountArgs, ImageTreeArgs, ImageUnmountArgs};
use crate::output::{is_json, print_json, write_out};
use crate::Ctx;
use anyhow::{bail, Result};
use libruntime::graph::image_mount;
use libruntime::store::ImageRecord;
use libruntime::store::Store;
use libruntime::time::compact_size;

pub fn tree(ctx: &Ctx, a: ImageTreeArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let image = store.find_image(&a.image)?;
    let all = store.images()?;
    write_out(&render_tree(&image, &all))?;
    Ok(0)
}

/// podman's drawing: the image, then its layers bottom first, each marked with the
/// images whose top layer it is.
fn render_tree(image: &ImageRecord, all: &[ImageRecord]) -> String {
    let mut out = format!(
        "Image ID: {}\nTags:     [{}]\nSize:     {}\nImage Layers\n",
        &image.id[..12],
        image.names.join(" "),
        compact_size(image.size, 4)
    );
    let n = image.layers.len();
    for (i, layer) in image.layers.iter().enumerate() {
        let branch = if i + 1 == n { "└──" } else { "├──" };
        let prefix = &image.layers[..=i];
        let tops: Vec<&str> = all
            .iter()
            .filter(|o| {
                o.layers.len() == i + 1
                    && o.layers
                        .iter()
                        .zip(prefix)
                        .all(|(a, b)| a.diff_id == b.diff_id)
            })
            .flat_map(|o| o.names.iter().map(String::as_str))
            .collect();
        out.push_str(&format!(
            "{branch} ID: {} Size: {:>7}",
            &layer.diff_id.hex()[..12],
            compact_size(layer.diff_size, 3)
        ));
        if !tops.is_empty() {
            out.push_str(&format!(" Top Layer of: [{}]", tops.join(" ")));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

pub fn mount(ctx: &Ctx, a: ImageMountArgs) -> Result<i32> {
    super::storage::check_mount_namespace(ctx)?;
    let store = Store::open(&ctx.paths);
    if a.images.is_empty() {
        let mut rows = Vec::new();
        for id in image_mount::mounted(&ctx.paths) {
            let name = store
                .find_image(&id)
                .ok()
                .and_then(|i| i.names.first().cloned())
                .unwrap_or_else(|| id.clone());
            rows.push((id.clone(), name, image_mount::mount_point(&ctx.paths, &id)));
        }
        if is_json(a.format.as_deref()) {
            let v: Vec<_> = rows
                .iter()
                .map(|(id, name, p)| serde_json::json!({"id": id, "Repositories": [name], "mountpoint": p}))
                .collect();
            return print_json(&serde_json::Value::Array(v)).map(|_| 0);
        }
        let text: String = rows
            .iter()
            .map(|(_, name, p)| format!("{name} {}\n", p.display()))
            .collect();
        write_out(&text)?;
        return Ok(0);
    }
    for name in &a.images {
        let image = store.find_image(name)?;
        let at = image_mount::mount_image(&ctx.paths, &image)?;
        write_out(&format!("{}\n", at.display()))?;
    }
    Ok(0)
}

pub fn unmount(ctx: &Ctx, a: ImageUnmountArgs) -> Result<i32> {
    super::storage::check_mount_namespace(ctx)?;
    let store = Store::open(&ctx.paths);
    let ids: Vec<String> = if a.all {
        image_mount::mounted(&ctx.paths)
    } else if a.images.is_empty() {
        bail!("name at least one image, or use --all");
    } else {
        a.images
            .iter()
            .map(|n| store.find_image(n).map(|i| i.id))
            .collect::<Result<_, _>>()?
    };
    for id in ids {
        if image_mount::unmount_image(&ctx.paths, &id)? && !a.all {
            write_out(&format!("{id}\n"))?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libruntime::digest::Digest;
    use libruntime::store::LayerRef;

    fn layer(n: u8, size: u64) -> LayerRef {
        let d = Digest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap();
        LayerRef {
            diff_id: d.clone(),
            diff_size: size,
            blob: d,
            blob_size: size,
            media_type: String::new(),
        }
    }

    fn image(id: &str, name: &str, layers: Vec<LayerRef>) -> ImageRecord {
        let d = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        ImageRecord {
            id: id.repeat(64 / id.len()),
            names: vec![name.into()],
            digest: d.clone(),
            config: d,
            size: layers.iter().map(|l| l.diff_size).sum(),
            layers,
            created: None,
            added: String::new(),
        }
    }

    #[test]
    fn layers_bottom_first_with_the_images_they_top() {
        let base = image("a", "localhost/base:latest", vec![layer(1, 2_130_000)]);
        let app = image(
            "b",
            "localhost/app:latest",
            vec![layer(1, 2_130_000), layer(2, 4096)],
        );
        let all = vec![base, app.clone()];
        assert_eq!(
            render_tree(&app, &all),
            "Image ID: bbbbbbbbbbbb\nTags:     [localhost/app:latest]\nSize:     2.134MB\nImage Layers\n\
             ├── ID: 010101010101 Size:  2.13MB Top Layer of: [localhost/base:latest]\n\
             └── ID: 020202020202 Size:   4.1kB Top Layer of: [localhost/app:latest]\n\n"
        );
    }
}
