//! jq programs over webhook events: the filters that decide whether a route takes an event and
//! the transforms that reshape a payload before delivery, both compiled with jaq.
//!
//! A program is compiled once, when the configuration is loaded, so that a typo is reported with
//! its line and column before the server starts; running it afterwards only walks the compiled
//! tree. Programs see the body as `.` and the whole event as `$event`.
//!
//! A program cannot reach out of the gateway: `env` is left out of the standard library (the
//! gateway's environment holds its secrets), imports are refused, and `halt` is an error rather
//! than the end of the process (jaq's own helper would call `process::exit`). Outputs are capped
//! at [`MAX_OUTPUTS`]. What no bound here can stop is a program that loops without producing
//! output (`last(repeat(1))`) or builds values nested tens of thousands deep (jaq recurses to drop
//! them): callers should run programs off the async workers if configs are not fully trusted.

use std::{fmt, sync::Arc};

use jaq_core::{
    data::JustLut,
    load::{self, Arena, File, Loader},
    Compiler, Ctx, Exn, Filter, ValT as _, Vars,
};
use jaq_json::{Num, Val};
use serde_json::{Map, Number, Value};

/// Outputs one run may produce. A program like `repeat(1)` or `range(1e9)` is a config mistake,
/// and without this bound it would grow a `Vec` until the process dies.
pub const MAX_OUTPUTS: usize = 10_000;

/// Nesting deeper than this in an output is refused, because converting it recurses. (jaq drops
/// values recursively too, so far deeper ones overflow inside jaq before they reach us.)
const MAX_OUTPUT_DEPTH: usize = 512;

/// The one global variable a program may reference.
const EVENT_VAR: &str = "$event";

/// How long a token or snippet may be when quoted in a syntax error.
const MAX_QUOTED_CHARS: usize = 24;

type Data = JustLut<Val>;

/// A compiled jq program (a filter or a transform), cheap to clone and shareable across tasks.
#[derive(Clone)]
pub struct JqProgram {
    inner: Arc<Compiled>,
}

struct Compiled {
    code: String,
    // jaq's compiled filter is plain data plus function pointers, so it is `Send + Sync` even
    // though the values it runs on (`Val`, built on `Rc`) are not; values live only inside `run`.
    filter: Filter<Data>,
}

/// A program that does not compile: where (1-based, column in characters) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct JqError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A program that failed while running, e.g. `cannot index 1 with "a"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JqRunError(pub String);

impl JqProgram {
    /// Parses and compiles `code` against jq's standard library, with `$event` declared.
    pub fn compile(code: &str) -> Result<JqProgram, JqError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs::<Data>().filter(|(name, ..)| *name != "env"))
            .chain(jaq_json::funs::<Data>());

        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errors| load_error(code, errors))?;
        let filter = Compiler::<_, Data>::default()
            .with_funs(funs)
            .with_global_vars([EVENT_VAR])
            .compile(modules)
            .map_err(|errors| compile_error(code, errors))?;
        Ok(JqProgram {
            inner: Arc::new(Compiled {
                code: code.to_owned(),
                filter,
            }),
        })
    }

    /// The program text as written in the configuration.
    pub fn code(&self) -> &str {
        &self.inner.code
    }

    /// Runs with `.` = `input` and `$event` = `event`, returning every output (at most
    /// [`MAX_OUTPUTS`]; one more is an error).
    pub fn run(&self, input: &Value, event: &Value) -> Result<Vec<Value>, JqRunError> {
        let filter = &self.inner.filter;
        let ctx = Ctx::<Data>::new(&filter.lut, Vars::new([json_to_val(event)]));
        let mut values = Vec::new();
        for output in filter.id.run((ctx, json_to_val(input))) {
            if values.len() == MAX_OUTPUTS {
                return Err(JqRunError(format!(
                    "program produced more than {MAX_OUTPUTS} outputs"
                )));
            }
            values.push(val_to_json(&output.map_err(run_error)?, 0)?);
        }
        Ok(values)
    }

    /// jq filter semantics: passes when the first output is truthy (neither `false` nor `null`).
    /// No output does not pass; outputs after the first are never computed.
    pub fn passes(&self, input: &Value, event: &Value) -> Result<bool, JqRunError> {
        Ok(self.first_val(input, event)?.is_some_and(|v| v.as_bool()))
    }

    /// Transform semantics: the first output, which must exist.
    pub fn first(&self, input: &Value, event: &Value) -> Result<Value, JqRunError> {
        match self.first_val(input, event)? {
            Some(v) => val_to_json(&v, 0),
            None => Err(JqRunError("program produced no output".to_owned())),
        }
    }

    fn first_val(&self, input: &Value, event: &Value) -> Result<Option<Val>, JqRunError> {
        let filter = &self.inner.filter;
        let ctx = Ctx::<Data>::new(&filter.lut, Vars::new([json_to_val(event)]));
        let first = filter.id.run((ctx, json_to_val(input))).next();
        first.transpose().map_err(run_error)
    }
}

impl fmt::Debug for JqProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JqProgram").field(&self.inner.code).finish()
    }
}

/// Two programs are equal when their text is: compilation is deterministic.
impl PartialEq for JqProgram {
    fn eq(&self, other: &Self) -> bool {
        self.inner.code == other.inner.code
    }
}

impl Eq for JqProgram {}

/// jq's input for a webhook body.
///
/// JSON when the content type says so (`application/json`, `application/*+json`, `text/json`) or
/// is absent and the body parses; `application/x-www-form-urlencoded` as an object of decoded
/// names to values (a repeated name gives an array of its values, in order); anything else,
/// including a JSON type whose body does not parse, as a string (invalid UTF-8 replaced).
pub fn body_input(body: &[u8], content_type: Option<&str>) -> Value {
    let media_type = content_type.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let as_json = || serde_json::from_slice::<Value>(body).ok();
    let parsed = match media_type.as_deref() {
        None => as_json(),
        Some("application/x-www-form-urlencoded") => Some(form_input(body)),
        Some(mt) if is_json_media_type(mt) => as_json(),
        Some(_) => None,
    };
    parsed.unwrap_or_else(|| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn is_json_media_type(media_type: &str) -> bool {
    match media_type.split_once('/') {
        Some((kind, subtype)) => {
            (kind == "application" || kind == "text")
                && (subtype == "json" || subtype.ends_with("+json"))
        }
        None => false,
    }
}

fn form_input(body: &[u8]) -> Value {
    let mut fields = Map::new();
    for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        let (name, value) = (form_decode(name), Value::String(form_decode(value)));
        match fields.get_mut(&name) {
            Some(Value::Array(values)) => values.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                fields.insert(name, value);
            }
        }
    }
    Value::Object(fields)
}

/// `+` is a space and `%XX` a byte (WHATWG URL standard, application/x-www-form-urlencoded
/// parsing); a `%` not followed by two hex digits stays as it is, as browsers leave it.
fn form_decode(raw: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => bytes.push(b' '),
            b'%' => match tail {
                [hi, lo, after @ ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                    bytes.push(hex_value(*hi) << 4 | hex_value(*lo));
                    rest = after;
                }
                _ => bytes.push(b'%'),
            },
            _ => bytes.push(b),
        }
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

fn json_to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => {
            // Integers stay integers in jaq (its `Num::Int`/`BigInt`), so ids and amounts
            // round-trip exactly; only real fractions become floats.
            if let Some(i) = n.as_i64() {
                Val::Num(Num::from_integral(i))
            } else if let Some(u) = n.as_u64() {
                Val::Num(Num::from_integral(u))
            } else {
                n.as_f64().map_or(Val::Null, Val::from)
            }
        }
        Value::String(s) => Val::from(s.clone()),
        Value::Array(items) => items.iter().map(json_to_val).collect(),
        Value::Object(fields) => Val::obj(
            fields
                .iter()
                .map(|(k, v)| (Val::from(k.clone()), json_to_val(v)))
                .collect(),
        ),
    }
}

fn val_to_json(val: &Val, depth: usize) -> Result<Value, JqRunError> {
    if depth > MAX_OUTPUT_DEPTH {
        return Err(JqRunError(format!(
            "output is nested deeper than {MAX_OUTPUT_DEPTH} levels"
        )));
    }
    Ok(match val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(n),
        // jaq strings are bytes that are usually UTF-8; JSON has only text.
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(items) => Value::Array(
            items
                .iter()
                .map(|v| val_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Val::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((key_to_json(k), val_to_json(v, depth + 1)?)))
                .collect::<Result<_, JqRunError>>()?,
        ),
    })
}

/// jaq allows any value as an object key (`{(1): 2}`); JSON does not, so such a key becomes its
/// JSON text, which is what `tostring` would make of it.
fn key_to_json(key: &Val) -> String {
    match key {
        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

fn num_to_json(n: &Num) -> Value {
    match n {
        Num::Int(i) => match i64::try_from(*i) {
            Ok(i) => Value::from(i),
            Err(_) => number_text_to_json(&n.to_string()),
        },
        // Big integers and decimal literals (`1.50`) keep their text where serde_json can hold
        // it; serde_json reads an integer beyond u64 as the nearest float, as jq does.
        Num::BigInt(_) | Num::Dec(_) => number_text_to_json(&n.to_string()),
        Num::Float(f) => float_to_json(*f),
    }
}

fn number_text_to_json(text: &str) -> Value {
    match text.parse::<Number>() {
        Ok(number) => Value::Number(number),
        // Out of f64's range (`1e1000`): Rust parses that as an infinity, clamped below.
        Err(_) => float_to_json(text.parse().unwrap_or(f64::NAN)),
    }
}

/// JSON has no NaN or infinity; jq prints NaN as null and an infinity as the largest finite
/// double of its sign, and so do we.
fn float_to_json(f: f64) -> Value {
    let clamped = if f.is_infinite() {
        f64::MAX.copysign(f)
    } else {
        f
    };
    Number::from_f64(clamped).map_or(Value::Null, Value::Number)
}

fn run_error(exn: Exn<'_, Val>) -> JqRunError {
    match exn.get_err() {
        // `error("text")` reads better without JSON quotes, as jq prints it.
        Ok(error) => match error.into_val() {
            Val::TStr(b) | Val::BStr(b) => JqRunError(String::from_utf8_lossy(&b).into_owned()),
            other => JqRunError(other.to_string()),
        },
        Err(exn) => match exn.get_halt() {
            Ok(code) => JqRunError(format!("program called halt (exit code {code})")),
            // A `break` escaping its label: jaq's compiler rejects this, so it is a jaq bug.
            Err(_) => JqRunError("program stopped with an unexpected break".to_owned()),
        },
    }
}

fn load_error(code: &str, errors: load::Errors<&str, ()>) -> JqError {
    let first = errors.into_iter().next().map(|(_file, error)| error);
    let (at, message) = match first {
        Some(load::Error::Lex(errors)) => match errors.into_iter().next() {
            Some((expect, found)) => lex_message(code, &expect, found),
            None => (None, "syntax error".to_owned()),
        },
        Some(load::Error::Parse(errors)) => match errors.into_iter().next() {
            Some((expect, found)) => (
                Some(found),
                format!("expected {}, found {}", expect.as_str(), quote(found)),
            ),
            None => (None, "syntax error".to_owned()),
        },
        Some(load::Error::Io(errors)) => match errors.into_iter().next() {
            Some((path, _reason)) => (
                Some(path),
                format!("cannot import {path}: modules are not supported"),
            ),
            None => (None, "modules are not supported".to_owned()),
        },
        None => (None, "syntax error".to_owned()),
    };
    positioned(code, at, message)
}

fn lex_message<'s>(
    code: &'s str,
    expect: &load::lex::Expect<&'s str>,
    found: &'s str,
) -> (Option<&'s str>, String) {
    use load::lex::Expect;
    // jaq's own `as_str` panics on a delimiter it does not know; we would rather say less.
    let what = match expect {
        Expect::Delim("(") => "closing parenthesis",
        Expect::Delim("[") => "closing bracket",
        Expect::Delim("{") => "closing brace",
        Expect::Delim("\"") => "closing quote",
        Expect::Delim(_) => "closing delimiter",
        other => other.as_str(),
    };
    // The lexer hands back everything after the error; only its first character is the culprit,
    // except at the end of the program.
    let found = found
        .char_indices()
        .nth(1)
        .map_or(found, |(end, _)| &found[..end]);
    let opened = match expect {
        Expect::Delim(open) => offset_in(code, open)
            .map(|at| {
                let (line, column) = line_column(code, at);
                format!(" to match `{open}` at {line}:{column}")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    (
        Some(found),
        format!("expected {what}{opened}, found {}", quote(found)),
    )
}

fn compile_error(code: &str, errors: jaq_core::compile::Errors<&str, ()>) -> JqError {
    let first = errors.into_iter().flat_map(|(_file, errors)| errors).next();
    let Some((name, undefined)) = first else {
        return positioned(code, None, "compile error".to_owned());
    };
    use jaq_core::compile::Undefined;
    let message = match undefined {
        Undefined::Filter(arity) => format!("undefined function `{name}/{arity}`"),
        Undefined::Var => format!("undefined variable `{name}` (only `{EVENT_VAR}` is predefined)"),
        Undefined::Label => format!("undefined label `{name}`"),
        Undefined::Mod => format!("undefined module `{name}`"),
        other => format!("undefined {} `{name}`", other.as_str()),
    };
    positioned(code, Some(name), message)
}

fn positioned(code: &str, at: Option<&str>, message: String) -> JqError {
    let (line, column) = at
        .and_then(|part| offset_in(code, part))
        .map_or((1, 1), |offset| line_column(code, offset));
    JqError {
        line,
        column,
        message,
    }
}

fn quote(found: &str) -> String {
    if found.is_empty() {
        return "end of program".to_owned();
    }
    let mut chars = found.chars();
    let head: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    let ellipsis = if chars.next().is_some() { "…" } else { "" };
    format!("`{head}{ellipsis}`")
}

/// Where `part`, a slice that jaq cut from `whole`, starts. jaq's errors carry slices rather than
/// offsets; a slice from elsewhere (the standard library's text) has no position in the program.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len() && whole.is_char_boundary(start)).then_some(start)
}

fn line_column(code: &str, offset: usize) -> (usize, usize) {
    let before = code.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;

    fn program(code: &str) -> JqProgram {
        JqProgram::compile(code).unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    fn event() -> Value {
        json!({
            "type": "invoice.paid",
            "source": "stripe",
            "headers": {"x-github-event": "push"},
        })
    }

    #[test]
    fn program_is_shareable_across_tasks() {
        fn assert_shareable<T: Clone + Send + Sync + fmt::Debug + 'static>() {}
        assert_shareable::<JqProgram>();
        let p = program(".a");
        assert_eq!(p.code(), ".a");
        assert_eq!(format!("{p:?}"), r#"JqProgram(".a")"#);
        assert_eq!(p.clone(), p);
    }

    #[test]
    fn filter_passes_fails_and_errors() {
        let p = program(".amount > 100");
        assert_eq!(p.passes(&json!({"amount": 150}), &event()), Ok(true));
        assert_eq!(p.passes(&json!({"amount": 50}), &event()), Ok(false));
        // null is falsy, a non-empty anything else truthy, no output does not pass
        assert_eq!(program(".missing").passes(&json!({}), &event()), Ok(false));
        assert_eq!(program(".x").passes(&json!({"x": 0}), &event()), Ok(true));
        assert_eq!(program("empty").passes(&json!({}), &event()), Ok(false));
        // only the first output decides
        assert_eq!(
            program("true, error(\"late\")").passes(&json!(1), &event()),
            Ok(true)
        );

        let err = program(".a.b").passes(&json!({"a": 1}), &event());
        let Err(JqRunError(message)) = err else {
            panic!("expected an error, got {err:?}");
        };
        assert!(message.contains("cannot index"), "{message}");
        assert_eq!(
            program(r#"error("boom")"#).passes(&json!(null), &event()),
            Err(JqRunError("boom".to_owned()))
        );
    }

    #[test]
    fn event_is_bound() {
        assert_eq!(
            program("$event.type").first(&json!({}), &event()),
            Ok(json!("invoice.paid"))
        );
        assert_eq!(
            program(r#"$event.headers["x-github-event"] == "push""#).passes(&json!({}), &event()),
            Ok(true)
        );
    }

    #[test]
    fn transform_builds_an_object() {
        let p =
            program(r#"{text: "paid \(.amount) \(.currency | ascii_upcase)", kind: $event.type}"#);
        assert_eq!(
            p.first(&json!({"amount": 12, "currency": "eur"}), &event()),
            Ok(json!({"text": "paid 12 EUR", "kind": "invoice.paid"}))
        );
        assert_eq!(
            program("empty").first(&json!({}), &event()),
            Err(JqRunError("program produced no output".to_owned()))
        );
    }

    #[test]
    fn standard_library_is_there() {
        let input = json!({"items": [{"id": "inv_1"}, {"id": "ch_2"}, {"id": "inv_3"}]});
        assert_eq!(
            program(r#"[.items[] | select(.id | startswith("inv_")) | .id]"#)
                .first(&input, &event()),
            Ok(json!(["inv_1", "inv_3"]))
        );
        assert_eq!(
            program(r#"[.items | map(.id | test("^ch_")) , ("a" | @base64), (1 | tostring), ("AbC" | ascii_downcase)]"#)
                .first(&input, &event()),
            Ok(json!([[false, true, false], "YQ==", "1", "abc"]))
        );
    }

    #[test]
    fn env_is_not_available() {
        let err = JqProgram::compile("env").map(|_| ());
        assert_eq!(
            err,
            Err(JqError {
                line: 1,
                column: 1,
                message: "undefined function `env/0`".to_owned()
            })
        );
    }

    #[test]
    fn halt_is_an_error_not_an_exit() {
        let result = program("halt").run(&json!(1), &event());
        assert_eq!(
            result,
            Err(JqRunError("program called halt (exit code 0)".to_owned()))
        );
    }

    #[test]
    fn run_returns_every_output() {
        assert_eq!(
            program(".[] | . * 2").run(&json!([1, 2, 3]), &event()),
            Ok(vec![json!(2), json!(4), json!(6)])
        );
    }

    #[test]
    fn form_body_is_an_object() {
        let body = b"name=J%C3%BCrgen+Smith&tag=a&empty=&tag=b%26c&flag&tag=d&bad=%zz%4";
        assert_eq!(
            body_input(
                body,
                Some("application/x-www-form-urlencoded; charset=utf-8")
            ),
            json!({
                "name": "Jürgen Smith",
                "tag": ["a", "b&c", "d"],
                "empty": "",
                "flag": "",
                "bad": "%zz%4",
            })
        );
    }

    #[test]
    fn non_json_body_is_a_string() {
        assert_eq!(
            body_input(b"hello\xffworld", Some("text/plain")),
            json!("hello\u{fffd}world")
        );
        assert_eq!(
            body_input(b"{\"a\":1}", Some("text/plain")),
            json!("{\"a\":1}")
        );
        assert_eq!(body_input(b"not json", None), json!("not json"));
        assert_eq!(
            body_input(b"{broken", Some("application/json")),
            json!("{broken")
        );
    }

    #[test]
    fn json_bodies_are_parsed() {
        assert_eq!(
            body_input(
                b"{\"data\":{\"id\":\"1\"}}",
                Some("application/vnd.api+json")
            ),
            json!({"data": {"id": "1"}})
        );
        assert_eq!(
            body_input(b"[1,2]", Some("Application/JSON; charset=utf-8")),
            json!([1, 2])
        );
        assert_eq!(body_input(b"{\"a\":true}", None), json!({"a": true}));
    }

    #[test]
    fn syntax_error_has_position_and_expectation() {
        let err = JqProgram::compile(r#".type | startswith("invoice.""#).map(|_| ());
        assert_eq!(
            err,
            Err(JqError {
                line: 1,
                column: 30,
                message: "expected closing parenthesis to match `(` at 1:19, found end of program"
                    .to_owned()
            })
        );
        let Err(err) = JqProgram::compile("if .a then 1\nelse 2 ]") else {
            panic!("should not compile");
        };
        assert_eq!((err.line, err.column), (2, 8), "{err}");
        let Err(err) = JqProgram::compile(".a |") else {
            panic!("should not compile");
        };
        assert_eq!(err.to_string(), "1:5: expected term, found end of program");
    }

    #[test]
    fn undefined_names_are_reported() {
        let Err(err) = JqProgram::compile(".a | foo(1)") else {
            panic!("should not compile");
        };
        assert_eq!(err.to_string(), "1:6: undefined function `foo/1`");
        let Err(err) = JqProgram::compile("\n  .a == $nope") else {
            panic!("should not compile");
        };
        assert_eq!(
            err.to_string(),
            "2:9: undefined variable `$nope` (only `$event` is predefined)"
        );
        let Err(err) = JqProgram::compile(r#"import "lib" as lib; ."#) else {
            panic!("should not compile");
        };
        assert!(err.message.contains("modules are not supported"), "{err}");
    }

    #[test]
    fn outputs_are_capped() {
        let started = Instant::now();
        for code in ["repeat(1)", "range(1e9)"] {
            assert_eq!(
                program(code).run(&json!(null), &event()),
                Err(JqRunError(format!(
                    "program produced more than {MAX_OUTPUTS} outputs"
                )))
            );
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(
            program("limit(3; repeat(1))").run(&json!(1), &event()),
            Ok(vec![json!(1), json!(1), json!(1)])
        );
        // a filter only needs the first output, so an endless one still passes
        assert_eq!(
            program("repeat(1)").passes(&json!(true), &event()),
            Ok(true)
        );
    }

    #[test]
    fn deep_outputs_are_refused() {
        // Far deeper and jaq itself overflows while dropping the value: a limit of jaq's, not
        // ours, which is why the bound below is small.
        let result = program("reduce range(2000) as $i (null; [.])").first(&json!(null), &event());
        assert_eq!(
            result,
            Err(JqRunError(format!(
                "output is nested deeper than {MAX_OUTPUT_DEPTH} levels"
            )))
        );
    }

    #[test]
    fn numbers_round_trip() {
        let input = json!({"n": 12345678901_i64, "f": 1.5, "u": u64::MAX, "neg": -7});
        let p = program("[.n, .f, .u, .neg, .n + 1, 1.50, 10000000000000000000000, 1e1000, nan]");
        let out = p.first(&input, &event()).unwrap_or_default();
        assert_eq!(
            out.to_string(),
            "[12345678901,1.5,18446744073709551615,-7,12345678902,1.5,1e+22,1.7976931348623157e+308,null]"
        );
        assert!(out[0].is_i64(), "{out}");
        assert_eq!(
            program(".n").first(&input, &event()),
            Ok(json!(12345678901_i64))
        );
    }

    #[test]
    fn non_string_keys_become_text() {
        assert_eq!(
            program("{(1): 2}").first(&json!(null), &event()),
            Ok(json!({"1": 2}))
        );
    }
}
