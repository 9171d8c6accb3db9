//! Prefixed, time-ordered identifiers (`evt_…`), in the manner of Stripe's and Svix's ids: the
//! prefix says what a string is when it turns up in a log, and UUIDv7 keeps ids sortable by time.

use std::{fmt, str::FromStr};

use uuid::Uuid;

/// The id hookgate gives an event when it stores it: `evt_` followed by a UUIDv7 in lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

impl EventId {
    const PREFIX: &'static str = "evt_";

    /// A new id. UUIDv7 carries the current time, which is why this is the one place in this crate
    /// that reads a clock (through `uuid`); nothing depends on its exact value.
    #[must_use]
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0.simple())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an event id (expected evt_ followed by 32 hex digits)")]
pub struct ParseIdError;

impl FromStr for EventId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or(ParseIdError)?;
        if hex.len() != 32 {
            return Err(ParseIdError);
        }
        Uuid::try_parse(hex).map(Self).map_err(|_| ParseIdError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sorts_by_time() {
        let a = EventId::generate();
        let b = EventId::generate();
        assert!(a.to_string().starts_with("evt_"));
        assert_eq!(a.to_string().parse::<EventId>(), Ok(a));
        assert!(a < b, "UUIDv7 ids generated in order must sort in order");
    }

    #[test]
    fn rejects_foreign_strings() {
        for s in [
            "",
            "evt_",
            "dlv_0190b1f0c5a87d1f8c3b2a4e5f607182",
            "evt_xyz",
            "evt_0190b1f0-c5a8-7d1f-8c3b-2a4e5f607182",
        ] {
            assert_eq!(s.parse::<EventId>(), Err(ParseIdError), "{s}");
        }
    }
}
