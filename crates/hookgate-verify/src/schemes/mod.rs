//! One module per signature scheme. Each follows one provider document, cited at its top,
//! and has the same shape: a prepared (keyed) form built at `Verifier::new`, a `verify`,
//! and a `sign` that produces what the real sender would.

pub(crate) mod bitbucket;
pub(crate) mod discord;
pub(crate) mod dropbox;
pub(crate) mod fixed;
pub(crate) mod github;
pub(crate) mod hmac;
pub(crate) mod hubspot;
pub(crate) mod intercom;
pub(crate) mod linear;
pub(crate) mod mailgun;
pub(crate) mod meta;
pub(crate) mod msgraph;
pub(crate) mod paddle;
pub(crate) mod razorpay;
pub(crate) mod sendgrid;
pub(crate) mod shopify;
pub(crate) mod slack;
pub(crate) mod square;
pub(crate) mod stamped;
pub(crate) mod standard_webhooks;
pub(crate) mod stripe;
pub(crate) mod token;
pub(crate) mod twilio;
pub(crate) mod twitch;
pub(crate) mod typeform;
pub(crate) mod woocommerce;
pub(crate) mod zoom;

use crate::{Provider, SignError};

/// The [`fixed::Spec`] of a provider whose scheme is a plain fixed HMAC.
pub(crate) fn fixed_spec(provider: Provider) -> Option<&'static fixed::Spec> {
    Some(match provider {
        Provider::Slack => &slack::SPEC,
        Provider::Zoom => &zoom::SPEC,
        Provider::Shopify => &shopify::SPEC,
        Provider::Square => &square::SPEC,
        Provider::Twitch => &twitch::SPEC,
        Provider::Intercom => &intercom::SPEC,
        Provider::Bitbucket => &bitbucket::SPEC,
        Provider::Typeform => &typeform::SPEC,
        Provider::Razorpay => &razorpay::SPEC,
        Provider::Woocommerce => &woocommerce::SPEC,
        Provider::Dropbox => &dropbox::SPEC,
        _ => return None,
    })
}

/// An id we put in a header (`X-GitHub-Delivery`, `webhook-id`) must survive being printed
/// as `Name: value` and parsed back, so it is visible ASCII with no spaces.
pub(crate) fn check_header_safe_id(id: &str) -> Result<(), SignError> {
    if id.is_empty() {
        return Err(SignError::BadId {
            reason: "empty".to_owned(),
        });
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SignError::BadId {
            reason: "must be visible ASCII without spaces".to_owned(),
        });
    }
    Ok(())
}
