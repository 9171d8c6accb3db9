//! `hookgate check`: load and validate a configuration, then list what it configures.

use std::process::ExitCode;

use hookgate_core::{config::CATCH_ALL, DestinationKind, Extract, StorageUrl};

use crate::cli::ConfigArg;

pub fn run(args: &ConfigArg) -> anyhow::Result<ExitCode> {
    let (config, origin) = crate::serve::load_config(args.config.as_deref())?;
    out!("{origin}: ok");
    out!("listen   http://{}", config.server.listen);
    let StorageUrl::Sqlite(path) = &config.storage.url;
    out!("storage  sqlite://{}", path.display());
    out!("sources  {}", config.sources.len());
    for s in &config.sources {
        let path = if s.name == CATCH_ALL {
            "/in/{any}".to_owned()
        } else {
            format!("/in/{}", s.name)
        };
        let dedup = match &s.dedup {
            None => "none".to_owned(),
            Some(Extract::Header(h)) => format!("header {h}"),
            Some(Extract::JsonPointer(p)) => format!("json {p}"),
        };
        out!(
            "  {:<24} {:<18} {:<28} dedup: {dedup}",
            s.name,
            s.provider,
            path
        );
    }
    let router = &config.router;
    out!("destinations  {}", router.destinations.len());
    for d in &router.destinations {
        let target = match &d.kind {
            DestinationKind::Http(h) => format!(
                "{}{}",
                h.url.split(['?', '#']).next().unwrap_or_default(),
                if h.signing_secret.is_some() {
                    "  (signed)"
                } else {
                    ""
                }
            ),
            DestinationKind::Command(c) => c.program.clone(),
        };
        out!(
            "  {:<24} {:<8} {target}  in flight ≤ {}{}",
            d.name,
            d.kind.as_str(),
            d.max_in_flight,
            if d.ordered { ", ordered" } else { "" }
        );
    }
    out!("routes  {}", router.routes.len());
    for r in &router.routes {
        let sources = r
            .sources
            .as_ref()
            .map_or_else(|| "*".to_owned(), |list| list.join(","));
        let mut extras = Vec::new();
        if let Some(f) = &r.filter {
            extras.push(format!("filter {}", f.code()));
        }
        if r.transform.is_some() {
            extras.push("transform".to_owned());
        }
        out!(
            "  {:<24} {sources} → {}  {}",
            r.name,
            r.destinations.join(","),
            extras.join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
