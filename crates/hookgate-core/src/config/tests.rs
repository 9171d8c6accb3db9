use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, &|name| {
        (name == "STRIPE_SECRET").then(|| "whsec_abc\"quoted".to_owned())
    })
}

fn err(text: &str) -> String {
    parse(text)
        .expect_err("config should be refused")
        .to_string()
}

#[test]
fn empty_file_means_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.server.max_body, 1 << 20);
    assert_eq!(c.storage.url, StorageUrl::Sqlite("hookgate.db".into()));
    assert!(c.sources.is_empty());
}

#[test]
fn full_example() {
    let c = parse(
        r#"
        [server]
        listen = "0.0.0.0:9000"
        max_body = "256KiB"
        admin_token = "t0ken"
        [storage]
        url = "sqlite:///var/lib/hookgate/h.db"
        retention = "7d"
        [[sources]]
        name = "stripe"
        provider = "stripe"
        secrets = ["${STRIPE_SECRET}", "whsec_old"]
        tolerance = "10m"
        [[sources]]
        name = "gh"
        provider = "github"
        secrets = ["s"]
        dedup = ""
        [[sources]]
        name = "custom"
        provider = "hmac"
        secrets = ["s"]
        header = "X-Signature"
        prefix = "sha512="
        algorithm = "sha512"
        encoding = "base64"
        dedup = "/meta/id"
        event_type = "X-Kind"
        methods = ["post", "put"]
        "#,
    )
    .unwrap();
    assert_eq!(c.server.max_body, 256 << 10);
    assert_eq!(format!("{:?}", c.server.admin_token), "Some(Secret(***))");
    assert_eq!(
        c.storage.url,
        StorageUrl::Sqlite("/var/lib/hookgate/h.db".into())
    );
    let stripe = c.source("stripe").unwrap();
    assert_eq!(stripe.dedup, Some(Extract::JsonPointer("/id".into())));
    assert_eq!(
        stripe.event_type,
        Some(Extract::JsonPointer("/type".into()))
    );
    assert_eq!(
        c.source("gh").unwrap().dedup,
        None,
        "an empty dedup turns the provider default off"
    );
    let custom = c.source("custom").unwrap();
    assert_eq!(custom.dedup, Some(Extract::JsonPointer("/meta/id".into())));
    assert_eq!(custom.event_type, Some(Extract::Header("x-kind".into())));
    assert_eq!(custom.methods, vec![http::Method::POST, http::Method::PUT]);
    assert!(c.source("other").is_none(), "no catch-all configured");
}

#[test]
fn embedded_default_catches_everything() {
    let c = Config::embedded_default();
    assert_eq!(c.source("anything").unwrap().name, CATCH_ALL);
    assert_eq!(c.source("anything").unwrap().provider, Provider::None);
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        err("[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets=[\"s\"]\n[[sources]]\nname = \"b\"\nprovider = \"githb\"\n"),
        "sources[1].provider: unknown provider \"githb\"; did you mean \"github\"?"
    );
    assert!(err("[server]\nlisten = \"nowhere\"").starts_with("server.listen: "));
    assert!(err("[server]\nlistn = \"x\"").contains("unknown field `listn`"));
    assert!(err("[server]\nmax_body = \"1 parsec\"").starts_with("server.max_body: "));
    assert!(err("[storage]\nurl = \"mysql://x\"").starts_with("storage.url: "));
    assert!(err("[storage]\nretention = \"1h\"").starts_with("storage.retention: "));
    assert!(
        err("[[sources]]\nname = \"a b\"\nprovider = \"none\"").starts_with("sources[0].name: ")
    );
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"github\"").starts_with("sources[0].secrets: ")
    );
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"\"]")
            .starts_with("sources[0].secrets[0]: ")
    );
    assert!(err(
        "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"s\"]\nheader = \"X\""
    )
    .starts_with("sources[0].header: "));
    assert!(err("[[sources]]\nname = \"a\"\nprovider = \"none\"\n[[sources]]\nname = \"a\"\nprovider = \"none\"").starts_with("sources[1].name: "));
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"hmac\"\nsecrets = [\"s\"]")
            .starts_with("sources[0].header: ")
    );
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"token\"\nsecrets = [\"s\"]")
            .starts_with("sources[0].header: ")
    );
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"none\"\nmethods = [\"G T\"]")
            .starts_with("sources[0].methods[0]: ")
    );
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"none\"\ntolerance = 5")
            .starts_with("sources[0].tolerance: ")
    );
    assert!(err("not toml at all = = =").starts_with("not valid TOML"));
}

#[test]
fn networks_and_public_url() {
    let c = parse(
        "[server]\npublic_url = \"https://hooks.example.com/\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n\
         [[sources]]\nname = \"gh\"\nprovider = \"none\"\nallow_ips = [\"192.30.252.0/22\", \"2a0a:a440::/29\", \"1.2.3.4\"]",
    )
    .unwrap();
    assert_eq!(
        c.server.public_url.as_deref(),
        Some("https://hooks.example.com")
    );
    assert_eq!(c.server.trusted_proxies.len(), 2);
    let allow = &c.source("gh").unwrap().allow_ips;
    assert!(allow
        .iter()
        .any(|n| n.contains(&"192.30.253.7".parse::<std::net::IpAddr>().unwrap())));
    assert!(allow
        .iter()
        .any(|n| n.contains(&"1.2.3.4".parse::<std::net::IpAddr>().unwrap())));
    assert!(!allow
        .iter()
        .any(|n| n.contains(&"1.2.3.5".parse::<std::net::IpAddr>().unwrap())));
    assert!(err("[server]\npublic_url = \"hooks.example.com\"").starts_with("server.public_url: "));
    assert!(err("[server]\npublic_url = \"https://h.example.com/in\"")
        .starts_with("server.public_url: "));
    assert!(err("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]")
        .starts_with("server.trusted_proxies[0]: "));
    assert!(
        err("[[sources]]\nname = \"a\"\nprovider = \"none\"\nallow_ips = [\"nope\"]")
            .starts_with("sources[0].allow_ips[0]: ")
    );
}

#[test]
fn env_expansion_is_per_value() {
    let c =
        parse("[[sources]]\nname = \"s\"\nprovider = \"stripe\"\nsecrets = [\"${STRIPE_SECRET}\"]")
            .unwrap();
    assert_eq!(c.sources[0].provider, Provider::Stripe);
    assert_eq!(
        err("[[sources]]\nname = \"s\"\nprovider = \"stripe\"\nsecrets = [\"${MISSING_SECRET}\"]"),
        "sources[0].secrets[0]: environment variable MISSING_SECRET is not set"
    );
    assert!(err("[server]\nadmin_token = \"${oops\"").starts_with("server.admin_token: "));
}

#[test]
fn template_errors_name_the_template() {
    let e = err("[[sources]]\nname = \"a\"\nprovider = \"hmac\"\nsecrets = [\"s\"]\nheader = \"X\"\nsigned = \"{nope}\"");
    assert!(e.starts_with("sources[0].signed: "), "{e}");
}

#[test]
fn errors_never_echo_secrets() {
    // A bad standard-webhooks secret must be reported without its value.
    let e = err("[[sources]]\nname = \"s\"\nprovider = \"standard-webhooks\"\nsecrets = [\"whsec_not*base64!\"]");
    assert!(e.starts_with("sources[0].secrets[0]: "), "{e}");
    assert!(!e.contains("not*base64!"), "{e}");
}
