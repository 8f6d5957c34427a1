//! `container runlabel LABEL IMAGE`: runs the command an image carries in one of its
//! labels (podman's convention for install and run recipes), with IMAGE and NAME filled in.

use crate::cli_container::RunlabelArgs;
use crate::output::write_out;
use crate::Ctx;
use anyhow::{bail, Context, Result};
use libruntime::reference::{DefaultDomain, Reference};
use libruntime::store::Store;

pub fn runlabel(ctx: &Ctx, a: RunlabelArgs) -> Result<i32> {
    let store = Store::open(&ctx.paths);
    let image = store.find_image(&a.image)?;
    let config = store.image_config(&image)?;
    let labels = config
        .config()
        .as_ref()
        .and_then(|c| c.labels().clone())
        .unwrap_or_default();
    let Some(recipe) = labels.get(&a.label) else {
        bail!(
            "cannot find the value of label: {} in image: {}",
            a.label,
            a.image
        );
    };
    let image_name = image
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| a.image.clone());
    let name = a.name.clone().unwrap_or_else(|| base_name(&image_name));
    let argv = command_line(recipe, &image_name, &name, &a.args)?;
    if !a.quiet || a.display {
        write_out(&format!("command: {}\n", argv.join(" ")))?;
    }
    if a.display {
        return Ok(0);
    }
    let mut cmd = if is_engine(&argv[0]) {
        // The recipe names podman or docker: it means this engine, on this store.
        super::registry::skiff_child(ctx)
    } else {
        std::process::Command::new(&argv[0])
    };
    let status = cmd
        .args(&argv[1..])
        .status()
        .with_context(|| format!("running {}", argv[0]))?;
    Ok(status.code().unwrap_or(125))
}

fn is_engine(program: &str) -> bool {
    matches!(
        program.rsplit('/').next(),
        Some("podman" | "docker" | "skiff")
    )
}

/// The image's name without registry, path or tag: the default container name.
fn base_name(image: &str) -> String {
    Reference::parse(image)
        .map(|r| r.tagged_name(DefaultDomain::Localhost))
        .unwrap_or_else(|_| image.to_string())
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .split([':', '@'])
        .next()
        .unwrap_or(image)
        .to_string()
}

/// The recipe split as a shell would, with IMAGE and NAME (bare, or as $IMAGE,
/// ${IMAGE}, $NAME, ${NAME} inside words) replaced, and the extra arguments after it.
fn command_line(recipe: &str, image: &str, name: &str, extra: &[String]) -> Result<Vec<String>> {
    let words = shlex::split(recipe)
        .with_context(|| format!("label value {recipe:?} is not a command line"))?;
    if words.is_empty() {
        bail!("the label holds no command");
    }
    let fill = |w: &str| -> String {
        match w {
            "IMAGE" => image.to_string(),
            "NAME" => name.to_string(),
            _ => w
                .replace("${IMAGE}", image)
                .replace("$IMAGE", image)
                .replace("${NAME}", name)
                .replace("$NAME", name),
        }
    };
    Ok(words
        .iter()
        .map(|w| fill(w))
        .chain(extra.iter().cloned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_get_image_and_name() {
        let table = [
            (
                "podman run -d --name NAME IMAGE sleep 9",
                vec![
                    "podman",
                    "run",
                    "-d",
                    "--name",
                    "web",
                    "localhost/web:1",
                    "sleep",
                    "9",
                    "x",
                ],
            ),
            (
                "sh -c 'echo $IMAGE is ${NAME}'",
                vec!["sh", "-c", "echo localhost/web:1 is web", "x"],
            ),
        ];
        for (recipe, want) in table {
            assert_eq!(
                command_line(recipe, "localhost/web:1", "web", &["x".into()]).unwrap(),
                want,
                "{recipe}"
            );
        }
        assert!(command_line("'unclosed", "i", "n", &[]).is_err());
        assert_eq!(base_name("localhost/team/web:1"), "web");
        assert!(is_engine("/usr/bin/podman") && is_engine("docker") && !is_engine("sh"));
    }
}
