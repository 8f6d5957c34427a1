//! `import`: a root file system tarball becomes a one-layer image.

use crate::error::{Error, Result};
use crate::image_config::apply_change;
use crate::layer::ExtractOptions;
use crate::store::{ImageRecord, ImageSpec, LayerSource, Store};
use serde_json::{json, Map, Value};
use std::io::Read;

#[derive(Debug, Default)]
pub struct ImportOptions {
    pub changes: Vec<String>,
    pub message: Option<String>,
    /// Full names for the new image.
    pub names: Vec<String>,
}

/// The image's `config` with every `--change` applied; fails on the first bad one.
pub fn config_from_changes(changes: &[String]) -> Result<Map<String, Value>> {
    let mut cfg = Map::new();
    for c in changes {
        apply_change(&mut cfg, c)?;
    }
    Ok(cfg)
}

pub fn import(
    store: &Store,
    src: &mut dyn Read,
    opts: &ImportOptions,
    extract: ExtractOptions,
) -> Result<ImageRecord> {
    let cfg = config_from_changes(&opts.changes)?;
    let result = (|| {
        let layer = store.ingest_layer(
            LayerSource {
                reader: src,
                blob: None,
                diff_id: None,
            },
            extract,
        )?;
        let now = crate::time::now_rfc3339();
        let mut history = json!({
            "created": now,
            "created_by": format!("/bin/sh -c #(nop) ADD file:{} in / ", layer.diff_id.hex()),
        });
        if let Some(m) = &opts.message {
            history["comment"] = json!(m);
        }
        let config = json!({
            "created": now,
            "architecture": crate::platform::go_arch(),
            "os": "linux",
            "config": Value::Object(cfg),
            "rootfs": { "type": "layers", "diff_ids": [layer.diff_id.as_str()] },
            "history": [history],
        });
        let config = serde_json::to_vec(&config).map_err(|e| Error::json("image config", e))?;
        store.add_image(ImageSpec {
            config,
            layers: vec![layer],
            manifest: None,
            names: opts.names.clone(),
        })
    })();
    match &result {
        Ok(img) => {
            let name = img.names.first().cloned().unwrap_or_default();
            let e = crate::events::Event::new(
                crate::events::EventType::Image,
                crate::events::EventStatus::Import,
            );
            crate::events::emit(&store.paths, &e.id(&img.id).name(&name));
        }
        Err(_) => store.discard_unreferenced()?,
    }
    result
}
