//! One module per signature scheme. Each follows one provider document, cited at its top,
//! and has the same shape: a prepared (keyed) form built at `Verifier::new`, a `verify`,
//! and a `sign` that produces what the real sender would.

pub(crate) mod github;
pub(crate) mod hmac;
pub(crate) mod standard_webhooks;
pub(crate) mod stripe;
pub(crate) mod token;

use crate::SignError;

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
