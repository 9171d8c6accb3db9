//! Provider names and where each provider puts its event id and type.
//!
//! This is the vocabulary shared by config (`provider = "stripe"`), the CLI
//! (`--provider stripe`) and the server's dedup-key extraction. It never looks at a request.

use std::{fmt, str::FromStr};

/// A signature scheme family, by the name users write in config and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Github,
    Stripe,
    StandardWebhooks,
    Hmac,
    Token,
    None,
}

/// Where a provider puts a piece of event metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// A request header, named in lower case.
    Header(&'static str),
    /// An RFC 6901 JSON pointer into the body.
    JsonPointer(&'static str),
}

impl Provider {
    /// Every provider, in the order they are listed to users.
    pub const ALL: &'static [Provider] = &[
        Provider::Github,
        Provider::Stripe,
        Provider::StandardWebhooks,
        Provider::Hmac,
        Provider::Token,
        Provider::None,
    ];

    /// The lower-case name used in config and on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Stripe => "stripe",
            Provider::StandardWebhooks => "standard-webhooks",
            Provider::Hmac => "hmac",
            Provider::Token => "token",
            Provider::None => "none",
        }
    }

    /// Where the provider's own event id lives, which is the natural dedup key: providers
    /// keep it stable across their retries.
    ///
    /// GitHub: `X-GitHub-Delivery` ("A globally unique identifier (GUID) to identify the
    /// delivery", GitHub docs "Webhook events and payloads", delivery headers).
    /// Stripe: the Event object's `id` (Stripe docs "Receive Stripe events": "handle
    /// duplicate events" by logging processed event ids).
    /// Standard Webhooks: `webhook-id`, which the spec says "remains the same no matter
    /// how many times a webhook that has failed is retried".
    #[must_use]
    pub fn event_id_location(self) -> Option<Location> {
        match self {
            Provider::Github => Some(Location::Header("x-github-delivery")),
            Provider::Stripe => Some(Location::JsonPointer("/id")),
            Provider::StandardWebhooks => Some(Location::Header("webhook-id")),
            Provider::Hmac | Provider::Token | Provider::None => None,
        }
    }

    /// Where the provider names the kind of event (GitHub: `X-GitHub-Event`; Stripe: the
    /// Event object's `type`; Standard Webhooks: the payload's `type` field, per the spec's
    /// payload structure section).
    #[must_use]
    pub fn event_type_location(self) -> Option<Location> {
        match self {
            Provider::Github => Some(Location::Header("x-github-event")),
            Provider::Stripe | Provider::StandardWebhooks => Some(Location::JsonPointer("/type")),
            Provider::Hmac | Provider::Token | Provider::None => None,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider name that is not one of [`Provider::ALL`], with the closest known name when
/// one is near enough to be a typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider {
    pub name: String,
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown provider {:?}", self.name)?;
        match self.suggestion {
            Some(suggestion) => write!(f, "; did you mean {suggestion:?}?"),
            None => {
                f.write_str("; expected one of ")?;
                for (i, provider) in Provider::ALL.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(provider.as_str())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for UnknownProvider {}

/// Typos further than this from every name get the full list instead of a guess: at
/// distance 3 a six-letter name is half rewritten and the guess is more noise than help.
const MAX_SUGGESTION_DISTANCE: usize = 2;

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// Names are matched exactly (they are documented in lower case); anything else gets a
    /// suggestion, so `GitHub` is answered with `did you mean "github"?` rather than
    /// silently accepted in one place and rejected in another.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(provider) = Provider::ALL.iter().find(|p| p.as_str() == name) {
            return Ok(*provider);
        }
        let lowered = name.to_ascii_lowercase();
        let suggestion = Provider::ALL
            .iter()
            .map(|p| (edit_distance(&lowered, p.as_str()), p.as_str()))
            .filter(|(distance, _)| *distance <= MAX_SUGGESTION_DISTANCE)
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, name)| name);
        Err(UnknownProvider {
            name: name.to_owned(),
            suggestion,
        })
    }
}

/// Levenshtein distance over chars; the inputs are short names, so the quadratic table is
/// a single small row.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>(), Ok(*provider));
            assert_eq!(provider.to_string(), provider.as_str());
        }
    }

    #[test]
    fn a_typo_gets_a_suggestion() {
        let err = "githb".parse::<Provider>().unwrap_err();
        assert_eq!(err.suggestion, Some("github"));
        assert_eq!(
            err.to_string(),
            r#"unknown provider "githb"; did you mean "github"?"#
        );
        assert_eq!(
            "strpie".parse::<Provider>().unwrap_err().suggestion,
            Some("stripe")
        );
        assert_eq!(
            "standard-webhook"
                .parse::<Provider>()
                .unwrap_err()
                .suggestion,
            Some("standard-webhooks")
        );
        assert_eq!(
            "tokn".parse::<Provider>().unwrap_err().suggestion,
            Some("token")
        );
    }

    #[test]
    fn wrong_case_is_rejected_with_the_right_spelling() {
        let err = "GitHub".parse::<Provider>().unwrap_err();
        assert_eq!(err.suggestion, Some("github"));
    }

    #[test]
    fn a_distant_name_lists_the_choices() {
        let err = "paypal-classic".parse::<Provider>().unwrap_err();
        assert_eq!(err.suggestion, None);
        assert_eq!(
            err.to_string(),
            r#"unknown provider "paypal-classic"; expected one of github, stripe, standard-webhooks, hmac, token, none"#
        );
    }

    #[test]
    fn locations() {
        assert_eq!(
            Provider::Github.event_id_location(),
            Some(Location::Header("x-github-delivery"))
        );
        assert_eq!(
            Provider::Stripe.event_type_location(),
            Some(Location::JsonPointer("/type"))
        );
        assert_eq!(
            Provider::StandardWebhooks.event_id_location(),
            Some(Location::Header("webhook-id"))
        );
        assert_eq!(Provider::Hmac.event_id_location(), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("github", "github"), 0);
    }
}
