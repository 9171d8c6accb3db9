//! `hookgate verify`, `sign` and `send`: the verify crate from the command line. The scheme is
//! built from flags through `SourceSpec`, the same rules a `[[sources]]` entry goes through, so
//! the CLI and the server can never disagree about what a provider means.

use std::{
    io::Read,
    path::PathBuf,
    process::ExitCode,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context};
use clap::Args;
use hookgate_core::{Quantity, SourceSpec};
use hookgate_verify::{Request, SignRequest};

/// Exit code for a usage error (bad flags, unreadable body file), as clap uses for its own.
const USAGE: u8 = 2;

#[derive(Debug, Clone, Args)]
pub struct SchemeArgs {
    /// Provider scheme, e.g. github, stripe, standard-webhooks, slack, shopify, twilio, hmac,
    /// token, basic, none (`hookgate verify --provider x` lists them all).
    #[arg(long)]
    pub provider: String,
    /// For hmac and token: the header carrying the signature or token.
    #[arg(long, value_name = "NAME")]
    pub signature_header: Option<String>,
    /// For hmac: text before the encoded signature (e.g. "sha256="); for token: before the token.
    #[arg(long)]
    pub prefix: Option<String>,
    /// For hmac: sha1, sha256 (default) or sha512.
    #[arg(long)]
    pub algorithm: Option<String>,
    /// For hmac: hex (default) or base64.
    #[arg(long)]
    pub encoding: Option<String>,
    /// For hmac: the signed content, e.g. "{timestamp}.{body}" (default "{body}").
    #[arg(long, value_name = "TEMPLATE")]
    pub signed: Option<String>,
    /// For hmac: the header carrying the unix timestamp used by {timestamp}.
    #[arg(long, value_name = "NAME")]
    pub timestamp_header: Option<String>,
    /// For token: the query parameter carrying the token.
    #[arg(long, value_name = "PARAM")]
    pub query: Option<String>,
    /// For token: the token is the URL's last path segment (/in/NAME/TOKEN).
    #[arg(long)]
    pub token_in_path: bool,
}

impl SchemeArgs {
    fn spec(&self, secrets: Vec<String>, tolerance: Option<u64>) -> SourceSpec {
        SourceSpec {
            name: "cli".to_owned(),
            provider: self.provider.clone(),
            secrets,
            tolerance: tolerance.map(|s| Quantity::Text(format!("{s}s"))),
            header: self.signature_header.clone(),
            prefix: self.prefix.clone(),
            algorithm: self.algorithm.clone(),
            encoding: self.encoding.clone(),
            signed: self.signed.clone(),
            timestamp_header: self.timestamp_header.clone(),
            query: self.query.clone(),
            token_in_path: self.token_in_path.then_some(true),
            ..SourceSpec::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub scheme: SchemeArgs,
    /// A secret; repeat while rotating (any one matching is enough).
    #[arg(long = "secret")]
    pub secrets: Vec<String>,
    /// A request header as 'Name: value'; repeat for each.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The raw request body ('-' for stdin).
    #[arg(long)]
    pub body_file: PathBuf,
    /// The URL (or path and query) the request was sent to.
    #[arg(long, default_value = "/")]
    pub url: String,
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Verify as if the time were this (unix seconds).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<i64>,
    /// Timestamp tolerance in seconds (default: the provider's).
    #[arg(long, value_name = "SECONDS")]
    pub tolerance: Option<u64>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub scheme: SchemeArgs,
    #[arg(long)]
    pub secret: String,
    /// The raw request body ('-' for stdin).
    #[arg(long)]
    pub body_file: PathBuf,
    #[arg(long, default_value = "/")]
    pub url: String,
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Sign as if the time were this (unix seconds).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<i64>,
    /// The message id, where the scheme carries one (default: a new random id).
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Where to POST.
    pub url: String,
    #[command(flatten)]
    pub scheme: SchemeArgs,
    #[arg(long, default_value = "")]
    pub secret: String,
    /// The raw request body ('-' for stdin).
    #[arg(long)]
    pub body_file: PathBuf,
    /// Extra header as 'Name: value'; repeat for each.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    #[arg(long, default_value = "application/json")]
    pub content_type: String,
    #[arg(long)]
    pub id: Option<String>,
}

fn read_body(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .context("cannot read the body from stdin")?;
        return Ok(body);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn parse_header(line: &str) -> anyhow::Result<(http::HeaderName, http::HeaderValue)> {
    let Some((name, value)) = line.split_once(':') else {
        bail!("header \"{line}\" is not in the form 'Name: value'");
    };
    let name = http::HeaderName::from_bytes(name.trim().as_bytes())
        .with_context(|| format!("\"{}\" is not a header name", name.trim()))?;
    let value = http::HeaderValue::from_str(value.trim())
        .with_context(|| format!("the value of {name} is not a valid header value"))?;
    Ok((name, value))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    eprintln!("hookgate: {e:#}");
    ExitCode::from(USAGE)
}

/// Exit 0 valid, 1 invalid (the reason on stderr), 2 usage error.
#[must_use]
pub fn verify(args: &VerifyArgs) -> ExitCode {
    let prepared = (|| -> anyhow::Result<_> {
        let source = args
            .scheme
            .spec(args.secrets.clone(), args.tolerance)
            .validate("")?;
        let mut headers = http::HeaderMap::new();
        for line in &args.headers {
            let (name, value) = parse_header(line)?;
            headers.append(name, value);
        }
        Ok((source, headers, read_body(&args.body_file)?))
    })();
    let (source, headers, body) = match prepared {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let request = Request {
        method: &args.method,
        url: &args.url,
        headers: &headers,
        body: &body,
    };
    match source
        .verifier
        .verify(&request, args.now.unwrap_or_else(unix_now))
    {
        Ok(verified) => {
            match verified.secret_index {
                Some(i) => out!(
                    "valid: {} signature matches secret {} of {}",
                    source.provider,
                    i + 1,
                    args.secrets.len()
                ),
                None => out!("valid: provider {} verifies nothing", source.provider),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid: {e} ({})", e.code());
            ExitCode::FAILURE
        }
    }
}

fn signed_headers(
    scheme: &SchemeArgs,
    secret: &str,
    body: &[u8],
    method: &str,
    url: &str,
    now: i64,
    id: Option<&str>,
) -> anyhow::Result<Vec<(String, String)>> {
    let scheme = scheme.spec(Vec::new(), None).scheme("")?;
    let generated;
    let id = match id {
        Some(id) => id,
        None => {
            generated = format!("msg_{}", uuid::Uuid::new_v4().simple());
            &generated
        }
    };
    Ok(hookgate_verify::sign(
        &scheme,
        secret.as_bytes(),
        &SignRequest { method, url, body },
        now,
        Some(id),
    )?)
}

/// Prints the signature headers, one 'Name: value' per line. Exit 0, or 2 on a usage error.
#[must_use]
pub fn sign(args: &SignArgs) -> ExitCode {
    let result = read_body(&args.body_file).and_then(|body| {
        signed_headers(
            &args.scheme,
            &args.secret,
            &body,
            &args.method,
            &args.url,
            args.now.unwrap_or_else(unix_now),
            args.id.as_deref(),
        )
    });
    match result {
        Ok(headers) => {
            for (name, value) in headers {
                out!("{name}: {value}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => usage_error(&e),
    }
}

/// Signs the body as the provider would and POSTs it. Exit 0 on a 2xx answer, 1 otherwise.
pub fn send(args: &SendArgs) -> anyhow::Result<ExitCode> {
    let body = read_body(&args.body_file)?;
    let mut url = args.url.clone();
    let signed = match signed_headers(
        &args.scheme,
        &args.secret,
        &body,
        "POST",
        &url,
        unix_now(),
        args.id.as_deref(),
    ) {
        Ok(h) => h,
        Err(e) => match e.downcast_ref::<hookgate_verify::SignError>() {
            // A token that travels in the query string: put it there.
            Some(hookgate_verify::SignError::QueryToken { param }) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                url = format!("{url}{separator}{param}={}", percent_encode(&args.secret));
                Vec::new()
            }
            Some(hookgate_verify::SignError::PathToken) => {
                let (path, query) = url
                    .split_once('?')
                    .map_or((url.as_str(), None), |(p, q)| (p, Some(q)));
                let mut with_token = format!(
                    "{}/{}",
                    path.trim_end_matches('/'),
                    percent_encode(&args.secret)
                );
                if let Some(query) = query {
                    with_token = format!("{with_token}?{query}");
                }
                url = with_token;
                Vec::new()
            }
            _ => return Err(e),
        },
    };
    let mut request = reqwest::Client::new()
        .post(&url)
        .header(http::header::CONTENT_TYPE, &args.content_type);
    for (name, value) in &signed {
        request = request.header(name, value);
    }
    for line in &args.headers {
        let (name, value) = parse_header(line)?;
        request = request.header(name, value);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, text) = runtime.block_on(async {
        let response = request
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        anyhow::Ok((status, response.text().await.unwrap_or_default()))
    })?;
    out!("HTTP {status}");
    if !text.is_empty() {
        out!("{text}");
    }
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
