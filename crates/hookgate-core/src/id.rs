//! Prefixed, time-ordered identifiers (`evt_…`), in the manner of Stripe's and Svix's ids: the
//! prefix says what a string is when it turns up in a log, and UUIDv7 keeps ids sortable by time.

/// A prefixed UUIDv7 id type: `Display`/`Debug` as prefix + 32 lower-case hex digits,
/// `FromStr` accepting exactly that.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            const PREFIX: &'static str = $prefix;

            /// A new id. UUIDv7 carries the current time, which is why this is the one place in
            /// this crate that reads a clock (through `uuid`); nothing depends on its exact value.
            #[must_use]
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}{}", Self::PREFIX, self.0.simple())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::id::ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let hex = s.strip_prefix(Self::PREFIX).ok_or($crate::id::ParseIdError)?;
                if hex.len() != 32 {
                    return Err($crate::id::ParseIdError);
                }
                uuid::Uuid::try_parse(hex).map(Self).map_err(|_| $crate::id::ParseIdError)
            }
        }
    };
}
pub(crate) use prefixed_id;

prefixed_id!(
    /// The id hookgate gives an event when it stores it: `evt_` followed by a UUIDv7 in
    /// lower-case hex.
    EventId,
    "evt_"
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an id of this kind (expected its prefix, evt_ or dlv_, followed by 32 hex digits)")]
pub struct ParseIdError;

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
