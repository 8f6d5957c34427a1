//! `search TERM`: repositories a registry holds whose names match, as podman lists them.

use crate::cli_registry::SearchArgs;
use crate::output::{is_json, print_json, print_rows};
use crate::Ctx;
use anyhow::{Context, Result};
use libruntime::registry::config::RegistriesConf;
use libruntime::registry::search;
use serde_json::{json, Value};

pub fn search(ctx: &Ctx, a: SearchArgs) -> Result<i32> {
    let opts = super::registry::client_options(&a.registry)?;
    let conf = RegistriesConf::load(ctx.paths.rootless)?;
    let found = search::search(&a.term, &conf, &opts, a.limit, a.list_tags)
        .with_context(|| format!("searching for {}", a.term))?;
    let rows: Vec<Value> = found
        .iter()
        .map(|f| {
            json!({
                "Index": f.index,
                "Name": f.name,
                "Description": f.description,
                "Stars": 0,
                "Official": "",
                "Automated": "",
                "Tag": f.tag.clone().unwrap_or_default(),
            })
        })
        .collect();
    if is_json(a.format.as_deref()) {
        return print_json(&Value::Array(rows)).map(|_| 0);
    }
    let table = if a.list_tags {
        "table {{.Name}}\t{{.Tag}}"
    } else {
        "table {{.Name}}\t{{.Description}}"
    };
    print_rows(
        a.format.as_deref(),
        table,
        &[
            ("Index", "INDEX"),
            ("Name", "NAME"),
            ("Description", "DESCRIPTION"),
            ("Stars", "STARS"),
            ("Official", "OFFICIAL"),
            ("Automated", "AUTOMATED"),
            ("Tag", "TAG"),
        ],
        &rows,
    )?;
    Ok(0)
}
