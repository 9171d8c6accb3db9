//! Twitch EventSub: the RFC 3339 `Twitch-Eventsub-Message-Timestamp` (fractions, offsets,
//! leap days and seconds, out-of-range fields), the message id, `sha256=` signatures, and
//! the `webhook_callback_verification` handshake.
#![no_main]

use arbitrary::Arbitrary;
use hookgate_fuzz::{pick, verify_forged, with_extras, Extra, Sig, NOW};
use hookgate_verify::{Provider, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Timestamp {
    Fields {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        fraction: Option<String>,
        offset: Option<(bool, u8, u8)>,
        t: u8,
        z: u8,
    },
    /// The instant `NOW + offset`, formatted as Twitch does, so the window is passed.
    Near(i16, Option<u32>),
    Raw(String),
}

fn near(offset: i16, nanos: Option<u32>) -> String {
    let t = NOW + i64::from(offset);
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since the epoch (Hinnant), enough for a well-formed stamp.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fraction = nanos.map(|n| format!(".{n}")).unwrap_or_default();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[derive(Arbitrary, Debug)]
struct Input {
    id: Option<String>,
    timestamp: Option<Timestamp>,
    signature: Option<(bool, Sig)>,
    message_type: Option<(u8, String)>,
    extras: Vec<Extra>,
    body: Vec<u8>,
    now_offset: i16,
}

fuzz_target!(|input: Input| {
    let mut pairs = Vec::new();
    if let Some(id) = &input.id {
        pairs.push((
            "twitch-eventsub-message-id".to_owned(),
            id.clone().into_bytes(),
        ));
    }
    if let Some(ts) = &input.timestamp {
        let text = match ts {
            Timestamp::Fields {
                year,
                month,
                day,
                hour,
                minute,
                second,
                fraction,
                offset,
                t,
                z,
            } => {
                let fraction = fraction
                    .as_ref()
                    .map(|f| format!(".{f}"))
                    .unwrap_or_default();
                let zone = match offset {
                    Some((plus, h, m)) => format!("{}{h:02}:{m:02}", if *plus { '+' } else { '-' }),
                    None => pick(&["Z", "z", "", "+00:00"], *z).to_owned(),
                };
                format!(
                    "{year:04}-{month:02}-{day:02}{}{hour:02}:{minute:02}:{second:02}{fraction}{zone}",
                    pick(&['T', 't', ' '], *t)
                )
            }
            Timestamp::Near(offset, nanos) => near(*offset, *nanos),
            Timestamp::Raw(text) => text.clone(),
        };
        pairs.push((
            "twitch-eventsub-message-timestamp".to_owned(),
            text.into_bytes(),
        ));
    }
    if let Some((prefixed, sig)) = &input.signature {
        let prefix = if *prefixed { "sha256=" } else { "" };
        pairs.push((
            "twitch-eventsub-message-signature".to_owned(),
            format!("{prefix}{}", sig.render()).into_bytes(),
        ));
    }
    if let Some((choice, raw)) = &input.message_type {
        let kind = match choice % 4 {
            0 => "webhook_callback_verification",
            1 => "notification",
            2 => "revocation",
            _ => raw.as_str(),
        };
        pairs.push((
            "twitch-eventsub-message-type".to_owned(),
            kind.as_bytes().to_vec(),
        ));
    }
    let headers = with_extras(
        pairs,
        &input.extras,
        &[
            "twitch-eventsub-message-id",
            "twitch-eventsub-message-timestamp",
            "twitch-eventsub-message-signature",
            "twitch-eventsub-message-type",
        ],
    );
    let req = Request {
        method: "POST",
        url: "/in/twitch",
        headers: &headers,
        body: &input.body,
    };
    verify_forged(Provider::Twitch, &req, NOW + i64::from(input.now_offset));
});
