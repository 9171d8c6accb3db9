//! `hookgate check`: load and validate a configuration, then list what it configures.

use std::process::ExitCode;

use hookgate_core::{config::CATCH_ALL, Extract, StorageUrl};

use crate::cli::ConfigArg;

pub fn run(args: &ConfigArg) -> anyhow::Result<ExitCode> {
    let (config, origin) = crate::serve::load_config(args.config.as_deref())?;
    println!("{origin}: ok");
    println!("listen   http://{}", config.server.listen);
    let StorageUrl::Sqlite(path) = &config.storage.url;
    println!("storage  sqlite://{}", path.display());
    println!("sources  {}", config.sources.len());
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
        println!(
            "  {:<24} {:<18} {:<28} dedup: {dedup}",
            s.name, s.provider, path
        );
    }
    Ok(ExitCode::SUCCESS)
}
