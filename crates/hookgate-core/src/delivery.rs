//! Deliveries (one event on its way to one destination) and their attempts, as the router
//! creates them ([`NewDelivery`]), the store keeps them ([`Delivery`], [`Attempt`]) and the
//! dispatcher reports on them ([`AttemptRecord`]); plus the retry schedule.

use std::{str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};

use crate::EventId;

crate::id::prefixed_id!(
    /// A delivery's id, `dlv_` + UUIDv7. It is the `webhook-id` a receiver sees, the same on
    /// every retry, so a receiver can drop the duplicates that at-least-once delivery allows.
    DeliveryId,
    "dlv_"
);

/// Where a delivery stands. "In flight" is not a status: it is a pending delivery whose lease
/// has not expired, so a worker that dies mid-send leaves nothing to clean up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Delivered => 1,
            Self::Dead => 2,
        }
    }

    #[must_use]
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Pending),
            1 => Some(Self::Delivered),
            2 => Some(Self::Dead),
            _ => None,
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "dead" => Ok(Self::Dead),
            other => Err(format!(
                "unknown delivery status \"{other}\" (pending, delivered or dead)"
            )),
        }
    }
}

/// A delivery the router decided on, stored in the same transaction as its event (or, for a
/// replay, on its own), so an acknowledged event's deliveries are as durable as the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub destination: String,
    /// The route that produced it (`routes[0]` or the route's name); `None` for a replay to an
    /// explicitly named destination.
    pub route: Option<String>,
    /// The transform's output (JSON), sent instead of the event's body.
    pub payload: Option<Vec<u8>>,
    /// Set when the route's filter or transform failed on this event: the delivery is stored
    /// dead with this reason, visible and replayable once the route is fixed, instead of the
    /// event silently going nowhere.
    pub dead_reason: Option<String>,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub seq: i64,
    pub event_id: EventId,
    pub destination: String,
    pub route: Option<String>,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix ms of the next attempt (pending deliveries only).
    pub next_at_ms: i64,
    /// Unix ms until which a worker holds this delivery; 0 when none does.
    pub lease_until_ms: i64,
    pub payload: Option<Vec<u8>>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub n: u32,
    pub started_at_ms: i64,
    pub duration_ms: u64,
    /// The HTTP status, for HTTP destinations that answered.
    pub status_code: Option<u16>,
    /// The exit code, for command destinations that exited.
    pub exit_code: Option<i32>,
    /// The start of the response body or the command's output, at most 4 KiB.
    pub excerpt: Option<String>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

/// Most bytes of a response body or command output kept in an attempt.
pub const MAX_EXCERPT: usize = 4096;

/// Cuts `bytes` to [`MAX_EXCERPT`] on a character boundary, lossily decoded.
#[must_use]
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_EXCERPT)]);
    let mut end = text.len().min(MAX_EXCERPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What happens to a delivery after the dispatcher had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    /// Try again at this unix ms.
    RetryAt(i64),
    Dead,
    /// Not attempted (the destination is disabled or its circuit opened meanwhile): give the
    /// lease back and keep it due at this unix ms, without counting an attempt.
    Release(i64),
}

/// The dispatcher's report on one claimed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub delivery: DeliveryId,
    /// `None` with [`NextStep::Release`].
    pub attempt: Option<Attempt>,
    pub next: NextStep,
}

/// When to retry a failed delivery: `schedule[k]` is the wait after the (k+1)th failure; after
/// the last one the delivery is dead. The first attempt is always at once.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub schedule: Vec<Duration>,
    /// Each wait varies by up to this fraction either way, so a receiver that failed a burst
    /// is not hit by the same burst again.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// Svix's schedule (and the Standard Webhooks recommendation): at once, then 5s, 5m, 30m,
    /// 2h, 5h, 10h, 10h; ±20% jitter.
    fn default() -> Self {
        let h = 3600;
        Self {
            schedule: [5, 300, 1800, 2 * h, 5 * h, 10 * h, 10 * h]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` failed attempts, or `None` when the delivery is out of
    /// retries. `unit` is a number in [0, 1) that picks the jitter (the caller owns the RNG,
    /// so this crate stays free of randomness and tests can pin it).
    #[must_use]
    pub fn delay(&self, attempts: u32, unit: f64) -> Option<Duration> {
        let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
        let base = *self.schedule.get(index)?;
        let factor = 1.0 + self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        Some(base.mul_f64(factor.max(0.0)))
    }

    /// The longest wait in the schedule: a `Retry-After` is honoured up to this.
    #[must_use]
    pub fn max_delay(&self) -> Duration {
        self.schedule.iter().copied().max().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_differ_from_event_ids() {
        let id = DeliveryId::generate();
        assert!(id.to_string().starts_with("dlv_"));
        assert_eq!(id.to_string().parse::<DeliveryId>(), Ok(id));
        assert!(EventId::generate()
            .to_string()
            .parse::<DeliveryId>()
            .is_err());
    }

    #[test]
    fn default_schedule_is_svix_and_ends() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(0, 0.5),
            None,
            "no delay before the first attempt"
        );
        assert_eq!(policy.delay(1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(policy.delay(7, 0.5), Some(Duration::from_secs(36_000)));
        assert_eq!(policy.delay(8, 0.5), None, "eight attempts, then dead");
        assert_eq!(policy.delay(1, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(policy.delay(1, 1.0), Some(Duration::from_secs(6)));
        assert_eq!(policy.max_delay(), Duration::from_secs(36_000));
    }

    #[test]
    fn excerpts_are_capped_on_a_char_boundary() {
        let long = "é".repeat(3000);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= MAX_EXCERPT);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
