//! The configuration model (DESIGN.md §3): TOML text in, a validated [`Config`] out.
//!
//! Parsing is two steps. First the TOML is read into "raw" structs that reject unknown keys, after
//! `${VAR}` references in string values are expanded (expanding values, not the text, means an
//! environment value containing quotes cannot change the TOML's structure). Then each raw value is
//! turned into its real type: every error names its field, in the form `sources[1].provider`.

use std::{collections::HashSet, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use hookgate_verify::{
    Algorithm, Encoding, HmacOptions, KeyError, Provider, Scheme, TokenOptions, Verifier,
};
use serde::Deserialize;

use crate::{
    routing::{self, RawDestination, RawRoute, Router},
    units::{parse_duration, parse_size},
    Extract, Secret,
};

/// The name that makes a source match every `/in/{name}` no other source claims.
pub const CATCH_ALL: &str = "*";

/// Dedup keys must be remembered at least this long (providers retry for up to three days), so
/// retention may not be shorter.
pub const MIN_RETENTION: Duration = Duration::from_secs(72 * 3600);

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub sources: Vec<Arc<Source>>,
    /// Destinations and routes: where events go after they are stored.
    pub router: Arc<Router>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// When set, `/api`, `/ui` and `/metrics` are served here and not on `listen`, so they
    /// need not be exposed where senders reach `/in`.
    pub admin_listen: Option<SocketAddr>,
    /// Largest request body accepted, checked before reading (Content-Length) and while reading.
    pub max_body: u64,
    /// Bearer token for `/api`. Without one, `/api` answers loopback peers only.
    pub admin_token: Option<Secret>,
    /// A client must finish sending its request head within this time (slowloris guard).
    pub header_read_timeout: Duration,
    /// A client must finish sending its body within this time.
    pub body_read_timeout: Duration,
    /// On SIGTERM/SIGINT, how long in-flight requests get to finish.
    pub shutdown_timeout: Duration,
    /// The URL senders use to reach this server (`https://hooks.example.com`), without a path.
    /// Schemes that sign the URL (Twilio, Square, HubSpot) need it when hookgate sits behind a
    /// proxy that changes scheme or host; without it the URL is `http://{Host}{path}`.
    pub public_url: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed when deciding a request's client address.
    /// Empty: the TCP peer is the client, whatever the headers say.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    Sqlite(PathBuf),
}

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub url: StorageUrl,
    /// Events older than this are deleted. Never below [`MIN_RETENTION`].
    pub retention: Duration,
    /// Refuse new events (503) once the database reaches this size, instead of filling the disk.
    pub max_size: Option<u64>,
}

/// A configured sender: `POST /in/{name}`.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub provider: Provider,
    pub verifier: Verifier,
    pub dedup: Option<Extract>,
    pub event_type: Option<Extract>,
    pub methods: Vec<http::Method>,
    /// Client addresses accepted (CIDR); empty means any.
    pub allow_ips: Vec<ipnet::IpNet>,
    /// The token is the last path segment: this source answers at `/in/{name}/{token}`.
    pub token_in_path: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Config {
    /// Parses and validates a configuration file's text; `env` resolves `${VAR}` references.
    pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax(e.message().to_owned()))?;
        for (key, value) in &mut table {
            expand_env(value, key, env)?;
        }
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let field = e.path().to_string();
                ConfigError::Invalid {
                    field,
                    message: e.into_inner().to_string(),
                }
            })?;
        raw.validate()
    }

    /// What `hookgate serve` runs with no config file: loopback on 8080, `./hookgate.db`, and a
    /// catch-all unverified source so `curl -d '{}' localhost:8080/in/anything` works at once.
    #[must_use]
    pub fn embedded_default() -> Self {
        Self::parse("[[sources]]\nname = \"*\"\nprovider = \"none\"\n", &|_| {
            None
        })
        .expect("the embedded default configuration is valid")
    }

    /// The source that answers `/in/{name}`: an exact match, else the catch-all if configured.
    #[must_use]
    pub fn source(&self, name: &str) -> Option<&Arc<Source>> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .or_else(|| self.sources.iter().find(|s| s.name == CATCH_ALL))
    }
}

/// Expands `${NAME}` in every string value, recursively; `path` names the value for errors.
fn expand_env(
    value: &mut toml::Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(s) if s.contains("${") => *s = expand_str(s, path, env)?,
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_env(item, &format!("{path}[{i}]"), env)?;
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                expand_env(item, &format!("{path}.{key}"), env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand_str(
    s: &str,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| invalid(path, "unclosed ${ (write ${NAME})"))?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                path,
                format!("\"${{{name}}}\" is not an environment variable reference"),
            ));
        }
        let value = env(name)
            .ok_or_else(|| invalid(path, format!("environment variable {name} is not set")))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A size or duration may be written as a number or a string with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    Number(u64),
    Text(String),
}

impl Quantity {
    pub(crate) fn size(&self, field: &str) -> Result<u64, ConfigError> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::Text(s) => parse_size(s).map_err(|m| invalid(field, m)),
        }
    }

    pub(crate) fn duration(&self, field: &str) -> Result<Duration, ConfigError> {
        match self {
            Self::Number(_) => Err(invalid(
                field,
                "write a duration with its unit, e.g. \"30s\" or \"5m\"",
            )),
            Self::Text(s) => parse_duration(s).map_err(|m| invalid(field, m)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    sources: Vec<SourceSpec>,
    #[serde(default)]
    destinations: Vec<RawDestination>,
    #[serde(default)]
    routes: Vec<RawRoute>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    admin_listen: Option<String>,
    max_body: Option<Quantity>,
    admin_token: Option<String>,
    header_read_timeout: Option<Quantity>,
    body_read_timeout: Option<Quantity>,
    shutdown_timeout: Option<Quantity>,
    public_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    url: Option<String>,
    retention: Option<Quantity>,
    max_size: Option<Quantity>,
}

/// One `[[sources]]` entry as written, before validation. Public so that the CLI's `verify` and
/// `sign` build their scheme from flags through the very same rules as the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub name: String,
    pub provider: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    pub tolerance: Option<Quantity>,
    pub dedup: Option<String>,
    pub event_type: Option<String>,
    pub methods: Option<Vec<String>>,
    /// Client addresses or CIDR ranges allowed to send (`["192.30.252.0/22"]`).
    pub allow_ips: Option<Vec<String>>,
    // Options of the generic `hmac` and `token` providers.
    pub header: Option<String>,
    pub prefix: Option<String>,
    pub algorithm: Option<String>,
    pub encoding: Option<String>,
    pub signed: Option<String>,
    pub timestamp_header: Option<String>,
    pub query: Option<String>,
    /// For `token`: the token is the URL's last path segment, `POST /in/{name}/{token}`.
    pub token_in_path: Option<bool>,
}

fn opt_duration(
    q: Option<&Quantity>,
    field: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    q.map_or(Ok(default), |q| q.duration(field))
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let server = self.server.validate()?;
        let storage = self.storage.validate()?;
        let mut names = HashSet::new();
        let mut sources = Vec::with_capacity(self.sources.len());
        for (i, raw) in self.sources.into_iter().enumerate() {
            let field = format!("sources[{i}]");
            if !names.insert(raw.name.clone()) {
                return Err(invalid(
                    join(&field, "name"),
                    format!("\"{}\" is used by an earlier source", raw.name),
                ));
            }
            sources.push(Arc::new(raw.validate(&field)?));
        }
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let router = routing::validate(self.destinations, self.routes, &names)?;
        Ok(Config {
            server,
            storage,
            sources,
            router: Arc::new(router),
        })
    }
}

impl RawServer {
    fn validate(self) -> Result<ServerConfig, ConfigError> {
        let listen = match self.listen {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(s) => s
                .parse()
                .map_err(|_| invalid("server.listen", format!("\"{s}\" is not an address and port, e.g. \"127.0.0.1:8080\" or \"[::]:8080\"")))?,
        };
        let admin_listen = self
            .admin_listen
            .map(|s| {
                s.parse::<SocketAddr>().map_err(|_| {
                    invalid(
                        "server.admin_listen",
                        format!("\"{s}\" is not an address and port, e.g. \"127.0.0.1:8081\""),
                    )
                })
            })
            .transpose()?;
        if admin_listen.is_some_and(|a| a == listen) {
            return Err(invalid(
                "server.admin_listen",
                "is the same as server.listen; leave it out to serve everything on one address",
            ));
        }
        let max_body = self
            .max_body
            .map_or(Ok(1 << 20), |q| q.size("server.max_body"))?;
        if max_body == 0 {
            return Err(invalid("server.max_body", "must be more than 0"));
        }
        let admin_token = match self.admin_token {
            Some(t) if t.is_empty() => {
                return Err(invalid(
                    "server.admin_token",
                    "is empty (remove it to allow loopback-only access)",
                ))
            }
            t => t.map(Secret::new),
        };
        Ok(ServerConfig {
            listen,
            admin_listen,
            max_body,
            admin_token,
            header_read_timeout: opt_duration(
                self.header_read_timeout.as_ref(),
                "server.header_read_timeout",
                Duration::from_secs(10),
            )?,
            body_read_timeout: opt_duration(
                self.body_read_timeout.as_ref(),
                "server.body_read_timeout",
                Duration::from_secs(30),
            )?,
            public_url: self.public_url.map(|u| parse_public_url(&u)).transpose()?,
            trusted_proxies: parse_networks(
                self.trusted_proxies.as_deref(),
                "server.trusted_proxies",
            )?,
            shutdown_timeout: opt_duration(
                self.shutdown_timeout.as_ref(),
                "server.shutdown_timeout",
                Duration::from_secs(10),
            )?,
        })
    }
}

impl RawStorage {
    fn validate(self) -> Result<StorageConfig, ConfigError> {
        let url = match self.url.as_deref() {
            None => StorageUrl::Sqlite(PathBuf::from("hookgate.db")),
            Some(u) => parse_storage_url(u).map_err(|m| invalid("storage.url", m))?,
        };
        let retention = opt_duration(
            self.retention.as_ref(),
            "storage.retention",
            Duration::from_secs(30 * 86_400),
        )?;
        if retention < MIN_RETENTION {
            return Err(invalid(
                "storage.retention",
                "must be at least 72h: duplicates are recognised for that long",
            ));
        }
        let max_size = self
            .max_size
            .map(|q| q.size("storage.max_size"))
            .transpose()?;
        Ok(StorageConfig {
            url,
            retention,
            max_size,
        })
    }
}

fn parse_public_url(url: &str) -> Result<String, ConfigError> {
    let field = "server.public_url";
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            invalid(
                field,
                format!("\"{url}\" must start with https:// or http://"),
            )
        })?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
        return Err(invalid(
            field,
            "give the scheme and host only, e.g. \"https://hooks.example.com\"",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Addresses or CIDR ranges; a bare address means just that address.
fn parse_networks(list: Option<&[String]>, field: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    invalid(
                        format!("{field}[{i}]"),
                        format!("\"{s}\" is not an IP address or CIDR range"),
                    )
                })
        })
        .collect()
}

fn parse_storage_url(url: &str) -> Result<StorageUrl, String> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err("sqlite:// needs a path, e.g. \"sqlite://hookgate.db\" or \"sqlite:///var/lib/hookgate/hookgate.db\"".into());
        }
        Ok(StorageUrl::Sqlite(PathBuf::from(path)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Err("PostgreSQL storage is not available in this version; use sqlite://PATH".into())
    } else {
        Err(format!(
            "\"{}\" is not a storage URL (expected sqlite://PATH)",
            url.split(':').next().unwrap_or(url)
        ))
    }
}

/// `sources[1]` + `provider` → `sources[1].provider`; with no prefix, just the name.
pub(crate) fn join(field: &str, name: &str) -> String {
    if field.is_empty() {
        name.to_owned()
    } else {
        format!("{field}.{name}")
    }
}

fn is_valid_source_name(name: &str) -> bool {
    name == CATCH_ALL
        || (!name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
}

impl SourceSpec {
    /// Validates into a [`Source`]; `field` prefixes error paths (`sources[2]`, or "" for none).
    pub fn validate(self, field: &str) -> Result<Source, ConfigError> {
        if !is_valid_source_name(&self.name) {
            return Err(invalid(
                join(field, "name"),
                format!("\"{}\" is not a source name (letters, digits, '-', '_', '.', at most 64; or \"*\" for a catch-all)", self.name),
            ));
        }
        let provider: Provider =
            self.provider
                .parse()
                .map_err(|e: hookgate_verify::UnknownProvider| {
                    invalid(join(field, "provider"), e.to_string())
                })?;
        let scheme = self.scheme_for(provider, field)?;
        let tolerance = self
            .tolerance
            .as_ref()
            .map(|q| q.duration(&join(field, "tolerance")))
            .transpose()?;
        for (i, s) in self.secrets.iter().enumerate() {
            if s.is_empty() {
                return Err(invalid(join(field, &format!("secrets[{i}]")), "is empty"));
            }
        }
        let secrets: Vec<&[u8]> = self.secrets.iter().map(String::as_bytes).collect();
        let verifier = Verifier::new(scheme, &secrets, tolerance).map_err(|e| match e {
            KeyError::BadSecret { index, reason } => {
                invalid(join(field, &format!("secrets[{index}]")), reason)
            }
            KeyError::BadTemplate { reason } => invalid(join(field, "signed"), reason),
            KeyError::BadOptions { reason } => invalid(field, reason),
            other => invalid(join(field, "secrets"), other.to_string()),
        })?;
        let methods = match self.methods {
            // The provider's own needs: Meta and Dropbox verify endpoints with a GET.
            None => provider
                .methods()
                .iter()
                .filter_map(|m| http::Method::from_bytes(m.as_bytes()).ok())
                .collect(),
            Some(list) if list.is_empty() => {
                return Err(invalid(join(field, "methods"), "is empty"))
            }
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| {
                        invalid(
                            join(field, &format!("methods[{i}]")),
                            format!("\"{m}\" is not an HTTP method"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let extract = |spec: Option<String>, default: Option<hookgate_verify::Location>| match spec
        {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(Extract::parse(&s)),
            None => default.map(Extract::from_location),
        };
        Ok(Source {
            dedup: extract(self.dedup, provider.event_id_location()),
            event_type: extract(self.event_type, provider.event_type_location()),
            token_in_path: self.token_in_path.unwrap_or(false),
            allow_ips: parse_networks(self.allow_ips.as_deref(), &join(field, "allow_ips"))?,
            name: self.name,
            provider,
            verifier,
            methods,
        })
    }

    /// The scheme, refusing options that belong to another provider: a `header` on a `github`
    /// source is a mistake the user should hear about, not a setting silently ignored.
    /// The signature scheme these options describe.
    pub fn scheme(&self, field: &str) -> Result<Scheme, ConfigError> {
        let provider: Provider =
            self.provider
                .parse()
                .map_err(|e: hookgate_verify::UnknownProvider| {
                    invalid(join(field, "provider"), e.to_string())
                })?;
        self.scheme_for(provider, field)
    }

    fn scheme_for(&self, provider: Provider, field: &str) -> Result<Scheme, ConfigError> {
        let given = |name: &str, present: bool| present.then(|| name.to_owned());
        let hmac_only = [
            given("algorithm", self.algorithm.is_some()),
            given("encoding", self.encoding.is_some()),
            given("signed", self.signed.is_some()),
            given("timestamp_header", self.timestamp_header.is_some()),
        ];
        let shared = [
            given("header", self.header.is_some()),
            given("prefix", self.prefix.is_some()),
        ];
        let misplaced = match provider {
            Provider::Hmac => given("query", self.query.is_some()),
            Provider::Token => hmac_only.iter().flatten().next().cloned(),
            _ if self.token_in_path.is_some() => Some("token_in_path".to_owned()),
            _ => hmac_only
                .iter()
                .chain(&shared)
                .flatten()
                .next()
                .cloned()
                .or_else(|| given("query", self.query.is_some())),
        };
        if let Some(option) = misplaced {
            return Err(invalid(
                join(field, &option),
                format!("is not an option of provider \"{provider}\""),
            ));
        }
        Ok(match provider {
            Provider::Github
            | Provider::Stripe
            | Provider::StandardWebhooks
            | Provider::Svix
            | Provider::Slack
            | Provider::Shopify
            | Provider::Twilio
            | Provider::Gitlab
            | Provider::Discord
            | Provider::Paddle
            | Provider::Square
            | Provider::Linear
            | Provider::Zoom
            | Provider::Intercom
            | Provider::Bitbucket
            | Provider::Typeform
            | Provider::Hubspot
            | Provider::Sendgrid
            | Provider::Twitch
            | Provider::Mailgun
            | Provider::Razorpay
            | Provider::Woocommerce
            | Provider::Meta
            | Provider::Msgraph
            | Provider::Dropbox
            | Provider::Basic
            | Provider::None => Scheme::of(provider).ok_or_else(|| {
                invalid(
                    join(field, "provider"),
                    format!("\"{provider}\" needs options"),
                )
            })?,
            Provider::Hmac => Scheme::Hmac(HmacOptions {
                algorithm: match &self.algorithm {
                    None => Algorithm::Sha256,
                    Some(a) => a.parse().map_err(|_| {
                        invalid(
                            join(field, "algorithm"),
                            format!("\"{a}\" is not one of sha1, sha256, sha512"),
                        )
                    })?,
                },
                header: self.header.clone().ok_or_else(|| {
                    invalid(join(field, "header"), "is required for provider \"hmac\"")
                })?,
                encoding: match &self.encoding {
                    None => Encoding::Hex,
                    Some(e) => e.parse().map_err(|_| {
                        invalid(
                            join(field, "encoding"),
                            format!("\"{e}\" is not one of hex, base64"),
                        )
                    })?,
                },
                prefix: self.prefix.clone(),
                signed: self.signed.clone().unwrap_or_else(|| "{body}".to_owned()),
                timestamp_header: self.timestamp_header.clone(),
            }),
            Provider::Token => {
                let in_path = self.token_in_path.unwrap_or(false);
                let places = usize::from(self.header.is_some())
                    + usize::from(self.query.is_some())
                    + usize::from(in_path);
                if places != 1 {
                    return Err(invalid(
                        join(field, "header"),
                        "provider \"token\" needs exactly one of header, query or token_in_path = true",
                    ));
                }
                Scheme::Token(TokenOptions {
                    header: self.header.clone(),
                    query: self.query.clone(),
                    prefix: self.prefix.clone(),
                    path: in_path,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests;
