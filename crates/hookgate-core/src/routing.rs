//! Destinations and routes (`[[destinations]]`, `[[routes]]`), validated, and the [`Router`]
//! that turns a verified event into the deliveries it needs.
//!
//! Routing runs at ingest, before the append, so an event and its deliveries are written in
//! one transaction: an acknowledged event is routed even if the process dies right after the
//! ack, and a config reload changes routing for new events only (the deliveries of earlier
//! ones are already stored). Filters and transforms are jq ([`crate::jq`]); their input is
//! the parsed body and `$event` is `{id, source, type, received_at, headers}`.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use hookgate_verify::{Provider, Scheme, Signer};
use serde::Deserialize;

use crate::{
    config::{invalid, join, ConfigError, Quantity},
    delivery::{DeliveryId, NewDelivery, RetryPolicy},
    jq::{body_input, JqProgram},
    units::rfc3339_from_unix_ms,
    Event, EventId, NewEvent, Secret, CATCH_ALL_SOURCE,
};

/// Where events go.
#[derive(Debug)]
pub struct Destination {
    pub name: String,
    pub kind: DestinationKind,
    /// Deliveries to this destination being sent at once, at most.
    pub max_in_flight: usize,
    /// Attempts started per second, at most (`None`: unlimited).
    pub rate_limit: Option<f64>,
    pub retry: RetryPolicy,
    /// One delivery at a time, in the order events were received; a failing head blocks the
    /// rest until it is delivered or dead.
    pub ordered: bool,
    pub circuit: CircuitPolicy,
}

#[derive(Debug)]
pub enum DestinationKind {
    Http(HttpDestination),
    Command(CommandDestination),
}

impl DestinationKind {
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::Command(_) => "command",
        }
    }
}

#[derive(Debug)]
pub struct HttpDestination {
    pub url: String,
    /// Standard Webhooks secret (`whsec_…`): every delivery carries `webhook-signature`.
    pub signing_secret: Option<Secret>,
    pub timeout: Duration,
    /// Headers of the original request passed on (lower-case names).
    pub forward_headers: Vec<String>,
    /// Fixed headers added to every delivery (an API key the receiver wants, say).
    pub headers: Vec<(String, Secret)>,
    /// The SSRF guard: refuse to connect to loopback, private, link-local or reserved
    /// addresses, whatever the URL's name resolves to.
    pub deny_private_networks: bool,
}

pub struct CommandDestination {
    pub program: String,
    pub args: Vec<Arg>,
    pub env: Vec<(String, Arg)>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
}

/// Environment values are often credentials (`DEPLOY_TOKEN = "${…}"`): `Debug` shows their
/// names only.
impl std::fmt::Debug for CommandDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("CommandDestination")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env)
            .field("cwd", &self.cwd)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One argument or environment value: fixed text, or a jq expression over the event.
#[derive(Debug, Clone)]
pub enum Arg {
    Literal(String),
    Jq(JqProgram),
}

/// Stop sending to a destination after `failures` consecutive failed attempts; after
/// `cooldown`, one probe decides whether it closes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitPolicy {
    /// 0 turns the breaker off.
    pub failures: u32,
    pub cooldown: Duration,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
pub struct Route {
    pub name: String,
    /// `None`: every source.
    pub sources: Option<Vec<String>>,
    pub destinations: Vec<String>,
    pub filter: Option<JqProgram>,
    pub transform: Option<JqProgram>,
}

impl Route {
    fn matches(&self, source: &str) -> bool {
        self.sources
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == source))
    }
}

/// What the router needs of an event.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    pub id: EventId,
    pub source: &'a str,
    pub event_type: Option<&'a str>,
    pub received_at_ms: i64,
    /// Lower-case names.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> RouteInput<'a> {
    /// A stored event (replays, command arguments).
    #[must_use]
    pub fn of(event: &'a Event) -> Self {
        Self {
            id: event.id,
            source: &event.source,
            event_type: event.event_type.as_deref(),
            received_at_ms: event.received_at_ms,
            headers: &event.headers,
            body: &event.body,
        }
    }

    /// An event about to be stored (ingest).
    #[must_use]
    pub fn of_new(event: &'a NewEvent) -> Self {
        Self {
            id: event.id,
            source: &event.source,
            event_type: event.event_type.as_deref(),
            received_at_ms: event.received_at_ms,
            headers: &event.headers,
            body: &event.body,
        }
    }

    /// `$event` for jq.
    #[must_use]
    pub fn event_value(&self) -> serde_json::Value {
        let mut headers = serde_json::Map::new();
        for (name, value) in self.headers {
            headers
                .entry(name.clone())
                .or_insert_with(|| serde_json::Value::String(value.clone()));
        }
        serde_json::json!({
            "id": self.id.to_string(),
            "source": self.source,
            "type": self.event_type,
            "received_at": rfc3339_from_unix_ms(self.received_at_ms),
            "headers": headers,
        })
    }

    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.as_str())
    }

    /// jq's `.`.
    #[must_use]
    pub fn body_value(&self) -> serde_json::Value {
        body_input(self.body, self.content_type())
    }
}

/// The routes and destinations of one configuration.
#[derive(Debug, Default)]
pub struct Router {
    pub destinations: Vec<Arc<Destination>>,
    pub routes: Vec<Route>,
}

impl Router {
    #[must_use]
    pub fn destination(&self, name: &str) -> Option<&Arc<Destination>> {
        self.destinations.iter().find(|d| d.name == name)
    }

    /// The deliveries `event` needs under these routes. jq runs only for routes of the
    /// event's source that have a filter or transform, and the body is parsed at most once.
    /// A filter or transform that fails yields a dead delivery carrying the reason.
    #[must_use]
    pub fn plan(&self, event: &RouteInput<'_>) -> Vec<NewDelivery> {
        let mut out = Vec::new();
        let mut inputs: Option<(serde_json::Value, serde_json::Value)> = None;
        for route in self.routes.iter().filter(|r| r.matches(event.source)) {
            self.plan_route(route, event, &mut inputs, &mut out, None);
        }
        out
    }

    /// A replay: the deliveries the current routes give `event`, or, with `only`, one
    /// delivery to that destination (with the transform of a route leading there, if any,
    /// and the original body otherwise: the operator asked for it by name).
    #[must_use]
    pub fn plan_replay(&self, event: &RouteInput<'_>, only: Option<&str>) -> Vec<NewDelivery> {
        let Some(only) = only else {
            return self.plan(event);
        };
        let mut inputs = None;
        let mut out = Vec::new();
        if let Some(route) = self
            .routes
            .iter()
            .find(|r| r.matches(event.source) && r.destinations.iter().any(|d| d == only))
        {
            let unfiltered = Route {
                name: route.name.clone(),
                sources: None,
                destinations: vec![only.to_owned()],
                filter: None,
                transform: route.transform.clone(),
            };
            self.plan_route(&unfiltered, event, &mut inputs, &mut out, Some(only));
        } else {
            out.push(NewDelivery {
                id: DeliveryId::generate(),
                destination: only.to_owned(),
                route: None,
                payload: None,
                dead_reason: None,
            });
        }
        out
    }

    fn plan_route(
        &self,
        route: &Route,
        event: &RouteInput<'_>,
        inputs: &mut Option<(serde_json::Value, serde_json::Value)>,
        out: &mut Vec<NewDelivery>,
        only: Option<&str>,
    ) {
        let needs_jq = route.filter.is_some() || route.transform.is_some();
        let (body, ev) = if needs_jq {
            let (body, ev) =
                inputs.get_or_insert_with(|| (event.body_value(), event.event_value()));
            (Some(&*body), Some(&*ev))
        } else {
            (None, None)
        };
        let mut payload = None;
        let mut dead_reason = None;
        if let (Some(filter), Some(body), Some(ev)) = (&route.filter, body, ev) {
            match filter.passes(body, ev) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => dead_reason = Some(format!("{}.filter failed: {e}", route.name)),
            }
        }
        if let (None, Some(transform), Some(body), Some(ev)) =
            (&dead_reason, &route.transform, body, ev)
        {
            match transform.first(body, ev) {
                Ok(value) => payload = serde_json::to_vec(&value).ok(),
                Err(e) => dead_reason = Some(format!("{}.transform failed: {e}", route.name)),
            }
        }
        for destination in &route.destinations {
            if only.is_some_and(|o| o != destination) {
                continue;
            }
            out.push(NewDelivery {
                id: DeliveryId::generate(),
                destination: destination.clone(),
                route: Some(route.name.clone()),
                payload: payload.clone(),
                dead_reason: dead_reason.clone(),
            });
        }
    }
}

// ---- configuration ----

/// A `[[destinations]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDestination {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    signing_secret: Option<String>,
    timeout: Option<Quantity>,
    forward_headers: Option<Vec<String>>,
    headers: Option<HashMap<String, String>>,
    deny_private_networks: Option<bool>,
    command: Option<Vec<RawArg>>,
    env: Option<HashMap<String, RawArg>>,
    cwd: Option<String>,
    max_in_flight: Option<u64>,
    rate_limit: Option<f64>,
    ordered: Option<bool>,
    retry: Option<RawRetry>,
    circuit: Option<RawCircuit>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawArg {
    Literal(String),
    Jq { jq: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    schedule: Option<Vec<Quantity>>,
    jitter: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCircuit {
    failures: Option<u32>,
    cooldown: Option<Quantity>,
}

/// A `[[routes]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    name: Option<String>,
    source: RawSources,
    destinations: Vec<String>,
    filter: Option<String>,
    transform: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawSources {
    One(String),
    Many(Vec<String>),
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers the client sets itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Headers every delivery carries, set by hookgate.
const SET_BY_HOOKGATE: &[&str] = &[
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "hookgate-event-id",
    "hookgate-source",
];

/// Credentials the sender meant for hookgate, never for the receiver.
const CREDENTIALS: &[&str] = &["authorization", "cookie"];

fn is_header_name(name: &str) -> bool {
    http::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

impl RawDestination {
    fn validate(self, field: &str) -> Result<Destination, ConfigError> {
        if !is_name(&self.name) {
            return Err(invalid(
                join(field, "name"),
                format!(
                    "\"{}\" is not a destination name (letters, digits, '-', '_', '.', at most 64)",
                    self.name
                ),
            ));
        }
        let only = |present: bool, key: &str, kind: &str| {
            if present {
                Err(invalid(
                    join(field, key),
                    format!("is not a setting of a {kind} destination"),
                ))
            } else {
                Ok(())
            }
        };
        let timeout = self
            .timeout
            .as_ref()
            .map(|q| q.duration(&join(field, "timeout")))
            .transpose()?;
        let kind = match self.kind.as_str() {
            "http" => {
                only(self.command.is_some(), "command", "http")?;
                only(self.env.is_some(), "env", "http")?;
                only(self.cwd.is_some(), "cwd", "http")?;
                let url = self.url.ok_or_else(|| {
                    invalid(join(field, "url"), "is required for an http destination")
                })?;
                check_url(&url).map_err(|m| invalid(join(field, "url"), m))?;
                let signing_secret = match self.signing_secret {
                    None => None,
                    Some(s) => {
                        check_signing_secret(&s)
                            .map_err(|m| invalid(join(field, "signing_secret"), m))?;
                        Some(Secret::new(s))
                    }
                };
                let mut forward_headers = Vec::new();
                for (i, name) in self
                    .forward_headers
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let lower = name.to_ascii_lowercase();
                    let f = join(field, &format!("forward_headers[{i}]"));
                    if !is_header_name(&lower) {
                        return Err(invalid(f, format!("\"{name}\" is not a header name")));
                    }
                    if [HOP_BY_HOP, SET_BY_HOOKGATE, CREDENTIALS]
                        .iter()
                        .any(|list| list.contains(&lower.as_str()))
                    {
                        return Err(invalid(
                            f,
                            format!("\"{name}\" is never forwarded (hop-by-hop, set by hookgate, or a credential)"),
                        ));
                    }
                    forward_headers.push(lower);
                }
                let mut headers = Vec::new();
                for (name, value) in self.headers.unwrap_or_default() {
                    let f = join(field, &format!("headers.{name}"));
                    let lower = name.to_ascii_lowercase();
                    if !is_header_name(&lower)
                        || HOP_BY_HOP.contains(&lower.as_str())
                        || SET_BY_HOOKGATE.contains(&lower.as_str())
                    {
                        return Err(invalid(f, "is not a header hookgate can set on a delivery"));
                    }
                    if http::HeaderValue::from_str(&value).is_err() {
                        return Err(invalid(f, "is not a valid header value (no CR, LF or NUL)"));
                    }
                    headers.push((lower, Secret::new(value)));
                }
                headers.sort_by(|a, b| a.0.cmp(&b.0));
                DestinationKind::Http(HttpDestination {
                    url,
                    signing_secret,
                    timeout: timeout.unwrap_or(Duration::from_secs(10)),
                    forward_headers,
                    headers,
                    deny_private_networks: self.deny_private_networks.unwrap_or(false),
                })
            }
            "command" => {
                only(self.url.is_some(), "url", "command")?;
                only(self.signing_secret.is_some(), "signing_secret", "command")?;
                only(self.forward_headers.is_some(), "forward_headers", "command")?;
                only(self.headers.is_some(), "headers", "command")?;
                only(
                    self.deny_private_networks.is_some(),
                    "deny_private_networks",
                    "command",
                )?;
                let mut argv = self
                    .command
                    .ok_or_else(|| invalid(join(field, "command"), "is required for a command destination: [\"/path/to/program\", \"arg\", { jq = \".field\" }, …]"))?
                    .into_iter();
                let program = match argv.next() {
                    Some(RawArg::Literal(p)) if !p.is_empty() && !p.contains('\0') => p,
                    _ => {
                        return Err(invalid(
                            join(field, "command[0]"),
                            "must be the program to run, as plain text",
                        ))
                    }
                };
                let args = argv
                    .enumerate()
                    .map(|(i, a)| a.validate(&join(field, &format!("command[{}]", i + 1))))
                    .collect::<Result<_, _>>()?;
                let mut env = Vec::new();
                for (name, value) in self.env.unwrap_or_default() {
                    let f = join(field, &format!("env.{name}"));
                    if name.is_empty() || name.contains(['=', '\0']) {
                        return Err(invalid(f, "is not an environment variable name"));
                    }
                    env.push((name, value.validate(&f)?));
                }
                env.sort_by(|a, b| a.0.cmp(&b.0));
                DestinationKind::Command(CommandDestination {
                    program,
                    args,
                    env,
                    cwd: self.cwd.map(PathBuf::from),
                    timeout: timeout.unwrap_or(Duration::from_secs(60)),
                })
            }
            "nats" | "redis" | "amqp" => {
                return Err(invalid(
                    join(field, "type"),
                    format!(
                        "\"{}\" destinations are not available yet (http or command)",
                        self.kind
                    ),
                ))
            }
            other => {
                return Err(invalid(
                    join(field, "type"),
                    format!("unknown destination type \"{other}\" (http or command)"),
                ))
            }
        };
        let max_in_flight = match self.max_in_flight {
            None => 16,
            Some(0) => return Err(invalid(join(field, "max_in_flight"), "must be at least 1")),
            Some(n) => usize::try_from(n.min(10_000)).unwrap_or(10_000),
        };
        if let Some(rate) = self.rate_limit {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(invalid(
                    join(field, "rate_limit"),
                    "must be a positive number of attempts per second",
                ));
            }
        }
        let retry = match self.retry {
            None => RetryPolicy::default(),
            Some(raw) => {
                let default = RetryPolicy::default();
                let schedule = match raw.schedule {
                    None => default.schedule,
                    Some(list) => list
                        .iter()
                        .enumerate()
                        .map(|(i, q)| q.duration(&join(field, &format!("retry.schedule[{i}]"))))
                        .collect::<Result<_, _>>()?,
                };
                let jitter = raw.jitter.unwrap_or(default.jitter);
                if !(0.0..=1.0).contains(&jitter) {
                    return Err(invalid(
                        join(field, "retry.jitter"),
                        "must be between 0 and 1",
                    ));
                }
                RetryPolicy { schedule, jitter }
            }
        };
        let circuit = match self.circuit {
            None => CircuitPolicy::default(),
            Some(raw) => CircuitPolicy {
                failures: raw.failures.unwrap_or(CircuitPolicy::default().failures),
                cooldown: raw
                    .cooldown
                    .as_ref()
                    .map(|q| q.duration(&join(field, "circuit.cooldown")))
                    .transpose()?
                    .unwrap_or(CircuitPolicy::default().cooldown),
            },
        };
        Ok(Destination {
            name: self.name,
            kind,
            max_in_flight,
            rate_limit: self.rate_limit,
            retry,
            ordered: self.ordered.unwrap_or(false),
            circuit,
        })
    }
}

impl RawArg {
    fn validate(self, field: &str) -> Result<Arg, ConfigError> {
        match self {
            Self::Literal(s) if s.contains('\0') => Err(invalid(field, "contains a NUL byte")),
            Self::Literal(s) => Ok(Arg::Literal(s)),
            Self::Jq { jq } => JqProgram::compile(&jq)
                .map(Arg::Jq)
                .map_err(|e| invalid(join(field, "jq"), e.to_string())),
        }
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Parsed the way the dispatcher will parse it (WHATWG, the `url` crate), so a URL that
/// passes here cannot fail at send time.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("\"{url}\" is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("\"{url}\" must start with http:// or https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{url}\" has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL would be sent in clear to every redirect and log; use headers = { authorization = \"…\" }".to_owned());
    }
    Ok(())
}

/// A signing secret must be one Standard Webhooks libraries can verify with: `whsec_` and
/// base64. Checked by keying the very signer every delivery uses.
fn check_signing_secret(secret: &str) -> Result<(), String> {
    let scheme = Scheme::of(Provider::StandardWebhooks)
        .ok_or_else(|| "standard-webhooks signing is unavailable".to_owned())?;
    Signer::new(scheme, secret.as_bytes())
        .map(|_| ())
        .map_err(|e| format!("{e} (a Standard Webhooks secret: whsec_ followed by base64)"))
}

impl RawRoute {
    fn validate(
        self,
        field: &str,
        sources: &[String],
        destinations: &[Arc<Destination>],
        index: usize,
    ) -> Result<Route, ConfigError> {
        let name = match self.name {
            Some(n) if !is_name(&n) => {
                return Err(invalid(
                    join(field, "name"),
                    format!("\"{n}\" is not a route name"),
                ))
            }
            Some(n) => n,
            None => format!("routes[{index}]"),
        };
        let list = match self.source {
            RawSources::One(s) => vec![s],
            RawSources::Many(list) => list,
        };
        if list.is_empty() {
            return Err(invalid(join(field, "source"), "names no source"));
        }
        let all = list.iter().any(|s| s == CATCH_ALL_SOURCE);
        for (i, s) in list.iter().enumerate() {
            if s != CATCH_ALL_SOURCE
                && !sources.contains(s)
                && !sources.iter().any(|x| x == CATCH_ALL_SOURCE)
            {
                let f = if list.len() == 1 {
                    join(field, "source")
                } else {
                    join(field, &format!("source[{i}]"))
                };
                return Err(invalid(f, format!("no source is named \"{s}\"")));
            }
        }
        if self.destinations.is_empty() {
            return Err(invalid(join(field, "destinations"), "names no destination"));
        }
        for (i, d) in self.destinations.iter().enumerate() {
            if !destinations.iter().any(|x| &x.name == d) {
                return Err(invalid(
                    join(field, &format!("destinations[{i}]")),
                    format!("no destination is named \"{d}\""),
                ));
            }
        }
        let compile = |code: Option<String>, key: &str| {
            code.map(|c| {
                JqProgram::compile(&c).map_err(|e| invalid(join(field, key), e.to_string()))
            })
            .transpose()
        };
        Ok(Route {
            name,
            sources: (!all).then_some(list),
            destinations: self.destinations,
            filter: compile(self.filter, "filter")?,
            transform: compile(self.transform, "transform")?,
        })
    }
}

/// Validates `[[destinations]]` and `[[routes]]` against the configured source names.
pub(crate) fn validate(
    raw_destinations: Vec<RawDestination>,
    raw_routes: Vec<RawRoute>,
    sources: &[String],
) -> Result<Router, ConfigError> {
    let mut destinations: Vec<Arc<Destination>> = Vec::with_capacity(raw_destinations.len());
    for (i, raw) in raw_destinations.into_iter().enumerate() {
        let field = format!("destinations[{i}]");
        if destinations.iter().any(|d| d.name == raw.name) {
            return Err(invalid(
                join(&field, "name"),
                format!("\"{}\" is used by an earlier destination", raw.name),
            ));
        }
        destinations.push(Arc::new(raw.validate(&field)?));
    }
    let mut routes = Vec::with_capacity(raw_routes.len());
    for (i, raw) in raw_routes.into_iter().enumerate() {
        let route = raw.validate(&format!("routes[{i}]"), sources, &destinations, i)?;
        if routes.iter().any(|r: &Route| r.name == route.name) {
            return Err(invalid(
                format!("routes[{i}].name"),
                format!("\"{}\" is used by an earlier route", route.name),
            ));
        }
        routes.push(route);
    }
    Ok(Router {
        destinations,
        routes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn parse(extra: &str) -> Result<Config, ConfigError> {
        Config::parse(
            &format!("[[sources]]\nname = \"shop\"\nprovider = \"none\"\n{extra}"),
            &|_| None,
        )
    }

    fn err(extra: &str) -> String {
        parse(extra).unwrap_err().to_string()
    }

    const DEST: &str =
        "[[destinations]]\nname = \"d\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/x\"\n";

    #[test]
    fn errors_name_the_field() {
        assert!(err("[[destinations]]\nname = \"d\"\ntype = \"ftp\"\n")
            .starts_with("destinations[0].type: unknown destination type \"ftp\""));
        assert!(
            err("[[destinations]]\nname = \"d\"\ntype = \"nats\"\n").contains("not available yet")
        );
        assert!(err("[[destinations]]\nname = \"d\"\ntype = \"http\"\n")
            .starts_with("destinations[0].url: is required"));
        assert!(err(
            "[[destinations]]\nname = \"d\"\ntype = \"http\"\nurl = \"file:///etc/passwd\"\n"
        )
        .contains("http:// or https://"));
        assert!(err(&format!("{DEST}signing_secret = \"hunter2\"\n"))
            .starts_with("destinations[0].signing_secret:"));
        assert!(!err(&format!("{DEST}signing_secret = \"hunter2\"\n")).contains("hunter2"));
        assert!(
            err(&format!("{DEST}forward_headers = [\"Authorization\"]\n"))
                .contains("forward_headers[0]: \"Authorization\" is never forwarded")
        );
        assert!(err(&format!("{DEST}command = [\"/bin/true\"]\n"))
            .contains("destinations[0].command: is not a setting of a http destination"));
        assert!(err(
            "[[destinations]]\nname = \"c\"\ntype = \"command\"\ncommand = [{ jq = \".x\" }]\n"
        )
        .starts_with("destinations[0].command[0]:"));
        assert!(err("[[destinations]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"/bin/echo\", { jq = \".x |\" }]\n")
            .starts_with("destinations[0].command[1].jq: 1:5:"));
        assert!(err(&format!(
            "{DEST}[[routes]]\nsource = \"shop\"\ndestinations = [\"nope\"]\n"
        ))
        .starts_with("routes[0].destinations[0]: no destination is named \"nope\""));
        assert!(err(&format!(
            "{DEST}[[routes]]\nsource = \"shoop\"\ndestinations = [\"d\"]\n"
        ))
        .starts_with("routes[0].source: no source is named \"shoop\""));
        assert!(err(&format!(
            "{DEST}[[routes]]\nsource = \"shop\"\ndestinations = [\"d\"]\ntransform = \"{{a:\"\n"
        ))
        .starts_with("routes[0].transform: 1:"));
        assert!(err(&format!("{DEST}{DEST}"))
            .contains("destinations[1].name: \"d\" is used by an earlier destination"));
    }

    fn input<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> RouteInput<'a> {
        RouteInput {
            id: EventId::generate(),
            source: "shop",
            event_type: Some("invoice.paid"),
            received_at_ms: 0,
            headers,
            body,
        }
    }

    #[test]
    fn plans_filter_transform_and_failures() {
        let config = parse(&format!(
            "{DEST}[[destinations]]\nname = \"e\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/e\"\n\
             [[routes]]\nsource = \"shop\"\ndestinations = [\"d\"]\nfilter = '.type | startswith(\"invoice.\")'\ntransform = '{{id, t: $event.type}}'\n\
             [[routes]]\nname = \"all\"\nsource = \"*\"\ndestinations = [\"e\"]\n\
             [[routes]]\nname = \"broken\"\nsource = [\"shop\"]\ndestinations = [\"e\"]\nfilter = '.amount + \"x\"'\n"
        ))
        .unwrap();
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let body = br#"{"id":"in_1","type":"invoice.paid","amount":5}"#;
        let plan = config.router.plan(&input(&headers, body));
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0].destination, "d");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(plan[0].payload.as_deref().unwrap())
                .unwrap(),
            serde_json::json!({"id": "in_1", "t": "invoice.paid"})
        );
        assert_eq!(
            (plan[1].destination.as_str(), plan[1].payload.as_ref()),
            ("e", None)
        );
        assert!(plan[1].dead_reason.is_none());
        // A filter that fails at run time leaves a dead delivery saying why.
        assert!(plan[2]
            .dead_reason
            .as_deref()
            .unwrap()
            .starts_with("broken.filter failed"));

        let other = br#"{"id":"cu_1","type":"customer.created","amount":1}"#;
        let plan = config.router.plan(&input(&headers, other));
        assert_eq!(
            plan.iter()
                .map(|d| d.destination.as_str())
                .collect::<Vec<_>>(),
            ["e", "e"]
        );

        // A replay to one destination skips the filter but keeps the route's transform.
        let replay = config
            .router
            .plan_replay(&input(&headers, other), Some("d"));
        assert_eq!(replay.len(), 1);
        assert!(replay[0].payload.is_some());
    }
}
