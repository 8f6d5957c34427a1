//! `search`: what a registry holds whose name matches a term. Registries that are not
//! Docker Hub have no search API, so, as podman does for them, the catalog
//! (/v2/_catalog) is read and filtered; `--list-tags` reads one repository's tags.

use super::client::{Body, Client, ClientOptions};
use super::config::RegistriesConf;
use crate::error::{Error, Result};
use crate::registry::RegistryError;

/// One line of `search`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The registry.
    pub index: String,
    /// registry/repository
    pub name: String,
    pub description: String,
    /// With `--list-tags`.
    pub tag: Option<String>,
}

/// Where a term points: a registry given in it, else every search registry.
pub fn split_term<'a>(term: &'a str, conf: &'a RegistriesConf) -> Vec<(String, &'a str)> {
    match term.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            vec![(host.to_string(), rest)]
        }
        _ => conf.search.iter().map(|r| (r.clone(), term)).collect(),
    }
}

/// Repositories of `catalog` whose name holds `pattern`, at most `limit`.
pub fn matching(catalog: &[String], pattern: &str, limit: usize) -> Vec<String> {
    catalog
        .iter()
        .filter(|r| r.contains(pattern))
        .take(limit)
        .cloned()
        .collect()
}

/// Searches `term`, up to `limit` results per registry.
pub fn search(
    term: &str,
    conf: &RegistriesConf,
    opts: &ClientOptions,
    limit: usize,
    list_tags: bool,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let mut last_err = None;
    for (host, pattern) in split_term(term, conf) {
        let opts = ClientOptions {
            insecure: conf.is_insecure(&host) || opts.insecure,
            ..opts.clone()
        };
        let client = match Client::new(&host, &opts) {
            Ok(c) => c,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        if list_tags {
            for tag in tags(&client, pattern)?.into_iter().take(limit) {
                out.push(Found {
                    index: host.clone(),
                    name: format!("{host}/{pattern}"),
                    description: String::new(),
                    tag: Some(tag),
                });
            }
            continue;
        }
        match catalog(&client) {
            Ok(repos) => out.extend(matching(&repos, pattern, limit).into_iter().map(|r| Found {
                index: host.clone(),
                name: format!("{host}/{r}"),
                description: String::new(),
                tag: None,
            })),
            Err(e) => last_err = Some(e),
        }
    }
    match (out.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        _ => Ok(out),
    }
}

fn catalog(client: &Client) -> Result<Vec<String>> {
    let scopes = ["registry:catalog:*".to_string()];
    let r = client.call("GET", "/v2/_catalog?n=1000", &scopes, &[], Body::Empty)?;
    let v: serde_json::Value = r.into_json().map_err(|e| {
        Error::Registry(RegistryError::Transfer(format!("reading the catalog: {e}")))
    })?;
    Ok(strings(&v["repositories"]))
}

fn tags(client: &Client, repo: &str) -> Result<Vec<String>> {
    let scopes = [format!("repository:{repo}:pull")];
    let r = client.call(
        "GET",
        &format!("/v2/{repo}/tags/list"),
        &scopes,
        &[],
        Body::Empty,
    )?;
    let v: serde_json::Value = r.into_json().map_err(|e| {
        Error::Registry(RegistryError::Transfer(format!(
            "reading the tags of {repo}: {e}"
        )))
    })?;
    // Registries answer in no particular order.
    let mut tags = strings(&v["tags"]);
    tags.sort();
    Ok(tags)
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_name_their_registry_or_use_the_search_list() {
        let conf = RegistriesConf {
            search: vec!["a.example".into(), "b.example".into()],
            ..RegistriesConf::default()
        };
        assert_eq!(
            split_term("localhost:5000/busy", &conf),
            vec![("localhost:5000".to_string(), "busy")]
        );
        assert_eq!(
            split_term("busy", &conf),
            vec![
                ("a.example".to_string(), "busy"),
                ("b.example".to_string(), "busy")
            ]
        );
        assert_eq!(split_term("team/app", &conf).len(), 2);
    }

    #[test]
    fn the_catalog_is_filtered_and_limited() {
        let repos: Vec<String> = ["busybox", "team/busy", "alpine"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(matching(&repos, "busy", 10), ["busybox", "team/busy"]);
        assert_eq!(matching(&repos, "busy", 1), ["busybox"]);
        assert!(matching(&repos, "nothing", 10).is_empty());
    }
}
