//! Provider names and where each provider puts its event id and type.
//!
//! This is the vocabulary shared by config (`provider = "stripe"`), the CLI
//! (`--provider stripe`) and the server's dedup-key extraction. It never looks at a request.

use std::{fmt, str::FromStr, time::Duration};

/// A signature scheme family, by the name users write in config and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Github,
    Stripe,
    StandardWebhooks,
    Svix,
    Slack,
    Shopify,
    Twilio,
    Gitlab,
    Discord,
    Paddle,
    Square,
    Linear,
    Zoom,
    Intercom,
    Bitbucket,
    Typeform,
    Hubspot,
    Sendgrid,
    Twitch,
    Mailgun,
    Razorpay,
    Woocommerce,
    Meta,
    Msgraph,
    Dropbox,
    Hmac,
    Token,
    Basic,
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
        Provider::Svix,
        Provider::Slack,
        Provider::Shopify,
        Provider::Twilio,
        Provider::Gitlab,
        Provider::Discord,
        Provider::Paddle,
        Provider::Square,
        Provider::Linear,
        Provider::Zoom,
        Provider::Intercom,
        Provider::Bitbucket,
        Provider::Typeform,
        Provider::Hubspot,
        Provider::Sendgrid,
        Provider::Twitch,
        Provider::Mailgun,
        Provider::Razorpay,
        Provider::Woocommerce,
        Provider::Meta,
        Provider::Msgraph,
        Provider::Dropbox,
        Provider::Hmac,
        Provider::Token,
        Provider::Basic,
        Provider::None,
    ];

    /// The lower-case name used in config and on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Stripe => "stripe",
            Provider::StandardWebhooks => "standard-webhooks",
            Provider::Svix => "svix",
            Provider::Slack => "slack",
            Provider::Shopify => "shopify",
            Provider::Twilio => "twilio",
            Provider::Gitlab => "gitlab",
            Provider::Discord => "discord",
            Provider::Paddle => "paddle",
            Provider::Square => "square",
            Provider::Linear => "linear",
            Provider::Zoom => "zoom",
            Provider::Intercom => "intercom",
            Provider::Bitbucket => "bitbucket",
            Provider::Typeform => "typeform",
            Provider::Hubspot => "hubspot",
            Provider::Sendgrid => "sendgrid",
            Provider::Twitch => "twitch",
            Provider::Mailgun => "mailgun",
            Provider::Razorpay => "razorpay",
            Provider::Woocommerce => "woocommerce",
            Provider::Meta => "meta",
            Provider::Msgraph => "msgraph",
            Provider::Dropbox => "dropbox",
            Provider::Hmac => "hmac",
            Provider::Token => "token",
            Provider::Basic => "basic",
            Provider::None => "none",
        }
    }

    /// Where the provider's own event id lives, which is the natural dedup key: providers
    /// keep it stable across their retries. Each comes from the provider's webhook docs:
    /// GitHub `X-GitHub-Delivery`; Stripe, Discord and Intercom the payload's `id`;
    /// Standard Webhooks `webhook-id` ("remains the same no matter how many times a webhook
    /// that has failed is retried") and Svix `svix-id`; Slack's Events API `event_id`;
    /// Shopify `X-Shopify-Webhook-Id` (its "Ignore duplicates" advice); Twilio
    /// `I-Twilio-Idempotency-Token`; GitLab `X-Gitlab-Event-UUID`; Paddle, Square and
    /// Typeform `event_id`; Linear `Linear-Delivery`; Bitbucket `X-Request-UUID`; Twitch
    /// `Twitch-Eventsub-Message-Id`; Mailgun `event-data.id`; Razorpay
    /// `x-razorpay-event-id`; WooCommerce `X-WC-Webhook-Delivery-ID`.
    ///
    /// `None` where there is no such id, or where one request carries a batch of events
    /// (HubSpot, SendGrid, Microsoft Graph), so no single id names the request.
    #[must_use]
    pub fn event_id_location(self) -> Option<Location> {
        match self {
            Provider::Github => Some(Location::Header("x-github-delivery")),
            Provider::Stripe => Some(Location::JsonPointer("/id")),
            Provider::StandardWebhooks => Some(Location::Header("webhook-id")),
            Provider::Svix => Some(Location::Header("svix-id")),
            Provider::Slack => Some(Location::JsonPointer("/event_id")),
            Provider::Shopify => Some(Location::Header("x-shopify-webhook-id")),
            Provider::Twilio => Some(Location::Header("i-twilio-idempotency-token")),
            Provider::Gitlab => Some(Location::Header("x-gitlab-event-uuid")),
            Provider::Discord => Some(Location::JsonPointer("/id")),
            Provider::Paddle => Some(Location::JsonPointer("/event_id")),
            Provider::Square => Some(Location::JsonPointer("/event_id")),
            Provider::Linear => Some(Location::Header("linear-delivery")),
            Provider::Zoom => None,
            Provider::Intercom => Some(Location::JsonPointer("/id")),
            Provider::Bitbucket => Some(Location::Header("x-request-uuid")),
            Provider::Typeform => Some(Location::JsonPointer("/event_id")),
            Provider::Hubspot => None,
            Provider::Sendgrid => None,
            Provider::Twitch => Some(Location::Header("twitch-eventsub-message-id")),
            Provider::Mailgun => Some(Location::JsonPointer("/event-data/id")),
            Provider::Razorpay => Some(Location::Header("x-razorpay-event-id")),
            Provider::Woocommerce => Some(Location::Header("x-wc-webhook-delivery-id")),
            Provider::Meta => None,
            Provider::Msgraph => None,
            Provider::Dropbox => None,
            Provider::Hmac => None,
            Provider::Token | Provider::Basic => None,
            Provider::None => None,
        }
    }

    /// Where the provider names the kind of event (a header such as `X-GitHub-Event`,
    /// `X-Shopify-Topic`, `Twitch-Eventsub-Subscription-Type`, or a payload field such as
    /// Stripe's `type`, Zoom's `event`, Meta's `object`).
    #[must_use]
    pub fn event_type_location(self) -> Option<Location> {
        match self {
            Provider::Github => Some(Location::Header("x-github-event")),
            Provider::Stripe => Some(Location::JsonPointer("/type")),
            Provider::StandardWebhooks => Some(Location::JsonPointer("/type")),
            Provider::Svix => Some(Location::JsonPointer("/type")),
            Provider::Slack => Some(Location::JsonPointer("/event/type")),
            Provider::Shopify => Some(Location::Header("x-shopify-topic")),
            Provider::Twilio => None,
            Provider::Gitlab => Some(Location::Header("x-gitlab-event")),
            Provider::Discord => Some(Location::JsonPointer("/type")),
            Provider::Paddle => Some(Location::JsonPointer("/event_type")),
            Provider::Square => Some(Location::JsonPointer("/type")),
            Provider::Linear => Some(Location::Header("linear-event")),
            Provider::Zoom => Some(Location::JsonPointer("/event")),
            Provider::Intercom => Some(Location::JsonPointer("/topic")),
            Provider::Bitbucket => Some(Location::Header("x-event-key")),
            Provider::Typeform => Some(Location::JsonPointer("/event_type")),
            Provider::Hubspot => None,
            Provider::Sendgrid => None,
            Provider::Twitch => Some(Location::Header("twitch-eventsub-subscription-type")),
            Provider::Mailgun => Some(Location::JsonPointer("/event-data/event")),
            Provider::Razorpay => Some(Location::JsonPointer("/event")),
            Provider::Woocommerce => Some(Location::Header("x-wc-webhook-topic")),
            Provider::Meta => Some(Location::JsonPointer("/object")),
            Provider::Msgraph => None,
            Provider::Dropbox => None,
            Provider::Hmac => None,
            Provider::Token | Provider::Basic => None,
            Provider::None => None,
        }
    }

    /// The replay window a provider documents for its signed timestamp (or its official
    /// SDK enforces); `None` for providers without a timestamp or without a documented
    /// window, where [`crate::DEFAULT_TOLERANCE`] applies.
    ///
    /// Twitch: "reject any message that is older than 10 minutes" (EventSub docs).
    /// Linear: `webhookTimestamp` "within a minute" (`@linear/sdk` checks 60 s).
    /// Paddle: `MAX_VALID_TIME_DIFFERENCE` of 5 s in `@paddle/paddle-node-sdk`.
    /// Slack, HubSpot v3, Stripe and Standard Webhooks: 5 minutes, the default.
    #[must_use]
    pub fn default_tolerance(self) -> Option<Duration> {
        match self {
            Provider::Twitch => Some(Duration::from_secs(600)),
            Provider::Linear => Some(Duration::from_secs(60)),
            Provider::Paddle => Some(Duration::from_secs(5)),
            _ => None,
        }
    }

    /// The HTTP methods a source of this provider must accept. Meta and Dropbox verify an
    /// endpoint with a `GET` (answered by [`crate::handshake`]); everything else POSTs.
    #[must_use]
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Provider::Meta | Provider::Dropbox => &["GET", "POST"],
            _ => &["POST"],
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
        for (typo, name) in [
            ("slak", "slack"),
            ("shopfy", "shopify"),
            ("twillio", "twilio"),
            ("git-lab", "gitlab"),
            ("sendgird", "sendgrid"),
            ("woo-commerce", "woocommerce"),
            ("hub-spot", "hubspot"),
            ("svx", "svix"),
        ] {
            assert_eq!(
                typo.parse::<Provider>().unwrap_err().suggestion,
                Some(name),
                "{typo}"
            );
        }
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
            "unknown provider \"paypal-classic\"; expected one of github, stripe, standard-webhooks, svix, slack, shopify, twilio, gitlab, discord, paddle, square, linear, zoom, intercom, bitbucket, typeform, hubspot, sendgrid, twitch, mailgun, razorpay, woocommerce, meta, msgraph, dropbox, hmac, token, basic, none"
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
        assert_eq!(
            Provider::Shopify.event_type_location(),
            Some(Location::Header("x-shopify-topic"))
        );
        assert_eq!(
            Provider::Twitch.event_id_location(),
            Some(Location::Header("twitch-eventsub-message-id"))
        );
        assert_eq!(
            Provider::Gitlab.event_id_location(),
            Some(Location::Header("x-gitlab-event-uuid"))
        );
    }

    #[test]
    fn provider_tolerances_and_methods() {
        assert_eq!(
            Provider::Twitch.default_tolerance(),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            Provider::Linear.default_tolerance(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(Provider::Slack.default_tolerance(), None);
        assert!(Provider::ALL.iter().all(|p| p.methods().contains(&"POST")));
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("github", "github"), 0);
    }
}
