//! One attempt at one delivery: build the request (or the command line), send it, and say
//! what happened. Pure of scheduling: the dispatcher decides what the outcome means for the
//! delivery (retry, dead, circuit).

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use hookgate_core::{
    delivery::excerpt,
    jq::body_input,
    routing::{Arg, CommandDestination, HttpDestination},
    Delivery, DestinationKind, Event, RouteInput,
};
use hookgate_verify::{Provider, Scheme, SignRequest, Signer};
use http::{HeaderName, HeaderValue};

use crate::{command, ssrf};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub started_at_ms: i64,
    pub duration: Duration,
    pub status_code: Option<u16>,
    pub exit_code: Option<i32>,
    pub excerpt: Option<String>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Worth retrying on the schedule; the reason is kept in the attempt.
    Failed(String),
    /// The receiver asked for a pause (`429`/`503` with `Retry-After`).
    RetryAfter(String, Duration),
    /// `410 Gone`: the receiver wants no more; the destination is disabled.
    Gone(String),
    /// Can never succeed as configured (a jq argument that fails, a URL the SSRF guard
    /// refuses): dead at once rather than retried for a day.
    Permanent(String),
}

/// A destination ready to send: its config and, for HTTP, its client (one per destination,
/// so timeouts, the SSRF resolver and connection pools are per destination).
#[derive(Debug)]
pub struct Sender {
    pub destination: Arc<hookgate_core::Destination>,
    http: Option<HttpTarget>,
}

/// What an HTTP destination needs per send, prepared once: the client, the parsed URL and
/// the keyed Standard Webhooks signer.
#[derive(Debug)]
struct HttpTarget {
    client: reqwest::Client,
    url: url::Url,
    signer: Option<Signer>,
}

/// Headers of the original request never forwarded whatever the allow-list says (the config
/// refuses them too; this is the second lock).
fn forwardable(name: &str) -> bool {
    !matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "authorization"
            | "cookie"
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Sender {
    /// # Errors
    /// The HTTP client cannot be built (TLS roots unavailable), or the URL or signing
    /// secret is unusable (config validation already refuses both).
    pub fn new(destination: Arc<hookgate_core::Destination>) -> Result<Self, String> {
        let http = match &destination.kind {
            DestinationKind::Http(http) => {
                // Redirects are failures, never followed: a 3xx to an internal address would
                // otherwise walk straight past the SSRF guard.
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(http.timeout)
                    .connect_timeout(http.timeout.min(Duration::from_secs(10)))
                    .user_agent(concat!("hookgate/", env!("CARGO_PKG_VERSION")))
                    .pool_max_idle_per_host(destination.max_in_flight);
                if http.deny_private_networks {
                    // Through a proxy the resolver would check the proxy, not the target.
                    builder = builder
                        .no_proxy()
                        .dns_resolver(Arc::new(ssrf::GuardedResolver));
                }
                let client = builder
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                let url = url::Url::parse(&http.url).map_err(|e| format!("bad URL: {e}"))?;
                let signer = match &http.signing_secret {
                    None => None,
                    Some(secret) => {
                        let scheme = Scheme::of(Provider::StandardWebhooks)
                            .ok_or("standard-webhooks signing is unavailable")?;
                        // The error never carries the secret (hookgate-verify's rule).
                        Some(
                            Signer::new(scheme, secret.expose().as_bytes())
                                .map_err(|e| format!("signing_secret: {e}"))?,
                        )
                    }
                };
                Some(HttpTarget {
                    client,
                    url,
                    signer,
                })
            }
            DestinationKind::Command(_) => None,
        };
        Ok(Self { destination, http })
    }

    /// How long a claim must hold for one attempt to finish, with room to record it.
    #[must_use]
    pub fn lease(&self) -> Duration {
        let timeout = match &self.destination.kind {
            DestinationKind::Http(h) => h.timeout,
            DestinationKind::Command(c) => c.timeout,
        };
        timeout + Duration::from_secs(30)
    }

    pub async fn send(&self, delivery: &Delivery, event: &Event) -> Sent {
        let started_at_ms = now_ms();
        let started = Instant::now();
        let mut sent = match (&self.destination.kind, &self.http) {
            (DestinationKind::Http(http), Some(target)) => {
                send_http(target, http, delivery, event).await
            }
            (DestinationKind::Command(cmd), _) => send_command(cmd, delivery, event).await,
            (DestinationKind::Http(_), None) => Sent {
                started_at_ms,
                duration: Duration::ZERO,
                status_code: None,
                exit_code: None,
                excerpt: None,
                verdict: Verdict::Permanent("no HTTP client".to_owned()),
            },
        };
        sent.started_at_ms = started_at_ms;
        sent.duration = started.elapsed();
        sent
    }
}

fn blank(verdict: Verdict) -> Sent {
    Sent {
        started_at_ms: 0,
        duration: Duration::ZERO,
        status_code: None,
        exit_code: None,
        excerpt: None,
        verdict,
    }
}

fn content_type(event: &Event) -> Option<&str> {
    event
        .headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str())
}

/// The Standard Webhooks headers for this attempt: `webhook-id` is the delivery id (the same
/// on every retry), the timestamp is the attempt's, the signature covers both and the body.
fn webhook_headers(
    target: &HttpTarget,
    http: &HttpDestination,
    delivery: &Delivery,
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let id = delivery.id.to_string();
    let now = now_ms() / 1000;
    match &target.signer {
        Some(signer) => {
            let req = SignRequest {
                method: "POST",
                url: &http.url,
                body,
            };
            signer
                .sign(&req, now, Some(&id))
                .map_err(|e| format!("cannot sign: {e}"))
        }
        None => Ok(vec![
            ("webhook-id".to_owned(), id),
            ("webhook-timestamp".to_owned(), now.to_string()),
        ]),
    }
}

async fn send_http(
    target: &HttpTarget,
    http: &HttpDestination,
    delivery: &Delivery,
    event: &Event,
) -> Sent {
    if http.deny_private_networks {
        // IP literals never reach the resolver, so they are checked here.
        if let Err(e) = ssrf::check_url(&target.url) {
            return blank(Verdict::Permanent(e.to_string()));
        }
    }
    let (body, content_type) = match &delivery.payload {
        Some(payload) => (payload.clone(), Some("application/json")),
        None => (event.body.clone(), content_type(event)),
    };
    let mut headers = http::HeaderMap::new();
    let mut put = |name: &str, value: &str| {
        // A value with CR, LF or NUL cannot become a header: dropped, never passed on.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    };
    for (name, value) in &event.headers {
        if http.forward_headers.iter().any(|f| f == name) && forwardable(name) {
            put(name, value);
        }
    }
    for (name, value) in &http.headers {
        put(name, value.expose());
    }
    if let Some(ct) = content_type {
        put("content-type", ct);
    }
    put("hookgate-event-id", &event.id.to_string());
    put("hookgate-source", &event.source);
    match webhook_headers(target, http, delivery, &body) {
        Ok(list) => {
            for (name, value) in &list {
                put(&name.to_ascii_lowercase(), value);
            }
        }
        Err(e) => return blank(Verdict::Permanent(e)),
    }
    let response = target
        .client
        .post(target.url.clone())
        .headers(headers)
        .body(body)
        .send()
        .await;
    let mut response = match response {
        Ok(r) => r,
        Err(e) => {
            return blank(match blocked_by_guard(&e) {
                // The name resolved to a forbidden address: refused, like an IP literal.
                Some(reason) => Verdict::Permanent(format!("blocked: {reason}")),
                None => Verdict::Failed(describe(&e)),
            });
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    // Only the start of the answer is kept, and only that much is read.
    let mut head = Vec::new();
    while head.len() < hookgate_core::delivery::MAX_EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let code = status.as_u16();
    let verdict = if status.is_success() {
        Verdict::Delivered
    } else if code == 410 {
        Verdict::Gone(format!("HTTP {code}: the receiver is gone"))
    } else if let (429 | 503, Some(wait)) = (code, retry_after) {
        Verdict::RetryAfter(format!("HTTP {code}"), wait)
    } else if status.is_redirection() {
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Verdict::Failed(format!(
            "HTTP {code}: redirects are not followed (Location: {})",
            excerpt(location.as_bytes())
        ))
    } else {
        Verdict::Failed(format!("HTTP {code}"))
    };
    Sent {
        started_at_ms: 0,
        duration: Duration::ZERO,
        status_code: Some(code),
        exit_code: None,
        excerpt: (!head.is_empty()).then(|| excerpt(&head)),
        verdict,
    }
}

/// The SSRF guard's refusal, when that is what failed the request.
fn blocked_by_guard(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(ssrf @ ssrf::SsrfError::Forbidden { .. }) =
            err.downcast_ref::<ssrf::SsrfError>()
        {
            return Some(ssrf.to_string());
        }
        source = err.source();
    }
    None
}

/// A reqwest error in words.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        root_cause(e)
    }
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A jq argument's output as command-line text: strings as they are, anything else as JSON.
fn arg_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

async fn send_command(cmd: &CommandDestination, delivery: &Delivery, event: &Event) -> Sent {
    let input = RouteInput::of(event);
    let needs_jq = cmd
        .args
        .iter()
        .chain(cmd.env.iter().map(|(_, a)| a))
        .any(|a| matches!(a, Arg::Jq(_)));
    let (body_value, event_value) = if needs_jq {
        let body = match &delivery.payload {
            Some(payload) => body_input(payload, Some("application/json")),
            None => input.body_value(),
        };
        (body, input.event_value())
    } else {
        (serde_json::Value::Null, serde_json::Value::Null)
    };
    let eval = |arg: &Arg, what: &str| match arg {
        Arg::Literal(s) => Ok(s.clone()),
        Arg::Jq(program) => program
            .first(&body_value, &event_value)
            .map(|v| arg_text(&v))
            .map_err(|e| format!("{what}: jq failed: {e}")),
    };
    let mut args = Vec::with_capacity(cmd.args.len());
    for (i, arg) in cmd.args.iter().enumerate() {
        match eval(arg, &format!("command[{}]", i + 1)) {
            Ok(a) => args.push(a),
            Err(e) => return blank(Verdict::Permanent(e)),
        }
    }
    let mut env = vec![
        ("HOOKGATE_EVENT_ID".to_owned(), event.id.to_string()),
        ("HOOKGATE_DELIVERY_ID".to_owned(), delivery.id.to_string()),
        ("HOOKGATE_SOURCE".to_owned(), event.source.clone()),
    ];
    for (name, arg) in &cmd.env {
        match eval(arg, &format!("env.{name}")) {
            Ok(v) => env.push((name.clone(), v)),
            Err(e) => return blank(Verdict::Permanent(e)),
        }
    }
    let invocation = command::Invocation {
        program: cmd.program.clone(),
        args,
        env,
        cwd: cmd.cwd.clone(),
        stdin: delivery
            .payload
            .clone()
            .unwrap_or_else(|| event.body.clone()),
        timeout: cmd.timeout,
    };
    match command::run(&invocation).await {
        Ok(outcome) => {
            let verdict = if outcome.succeeded() {
                Verdict::Delivered
            } else if outcome.timed_out {
                Verdict::Failed(format!(
                    "timed out after {:?}; the process group was killed",
                    cmd.timeout
                ))
            } else if let Some(code) = outcome.exit_code {
                Verdict::Failed(format!("exit code {code}"))
            } else {
                Verdict::Failed(format!(
                    "killed by signal {}",
                    outcome.signal.unwrap_or_default()
                ))
            };
            Sent {
                started_at_ms: 0,
                duration: outcome.duration,
                status_code: None,
                exit_code: outcome.exit_code,
                excerpt: (!outcome.output.is_empty()).then(|| excerpt(outcome.output.as_bytes())),
                verdict,
            }
        }
        Err(command::CommandError::Invalid { reason }) => {
            blank(Verdict::Permanent(format!("invalid command: {reason}")))
        }
        Err(e) => blank(Verdict::Failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn credentials_and_hop_by_hop_are_never_forwarded() {
        for name in [
            "authorization",
            "cookie",
            "connection",
            "transfer-encoding",
            "host",
        ] {
            assert!(!forwardable(name), "{name}");
        }
        assert!(forwardable("x-github-event"));
    }
}
