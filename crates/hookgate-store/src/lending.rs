//! Sending slots the dispatcher lends to the store, so that a delivery created by an append can
//! skip the claim: the writer leases it in the event's own transaction and, once that commit is
//! durable, hands it (with the event, still in memory) straight to the dispatcher.
//!
//! Without this every new delivery costs a second writer transaction (the claim) that reads the
//! event back and decompresses its body, only to learn what ingest knew a moment earlier. With
//! it, the claim is left for what memory cannot know: retries that came due, backlog, replays.
//!
//! A lent slot is in flight as far as the dispatcher counts: it is taken back with
//! [`Lending::recall`] (what the writer has not used) or comes back as a handed-over delivery.

use std::{collections::HashMap, sync::Mutex};

#[derive(Debug, Default)]
pub struct Lending {
    slots: Mutex<HashMap<String, Lent>>,
}

#[derive(Debug, Clone, Copy)]
struct Lent {
    slots: usize,
    lease_ms: i64,
}

impl Lending {
    /// Lends `slots` more sending slots of `destination`; a delivery leased through one is held
    /// for `lease_ms`.
    pub fn lend(&self, destination: &str, slots: usize, lease_ms: i64) {
        if slots == 0 {
            return;
        }
        let Ok(mut map) = self.slots.lock() else {
            return;
        };
        match map.get_mut(destination) {
            Some(lent) => {
                lent.slots += slots;
                lent.lease_ms = lease_ms;
            }
            None => {
                map.insert(destination.to_owned(), Lent { slots, lease_ms });
            }
        }
    }

    /// Takes back every slot not used yet: `(destination, slots)` for each that had any.
    pub fn recall(&self) -> Vec<(String, usize)> {
        let Ok(mut map) = self.slots.lock() else {
            return Vec::new();
        };
        map.iter_mut()
            .filter(|(_, lent)| lent.slots > 0)
            .map(|(name, lent)| (name.clone(), std::mem::take(&mut lent.slots)))
            .collect()
    }

    /// Takes back the slots of one destination not used yet.
    pub fn recall_one(&self, destination: &str) -> usize {
        self.slots
            .lock()
            .ok()
            .and_then(|mut map| {
                map.get_mut(destination)
                    .map(|l| std::mem::take(&mut l.slots))
            })
            .unwrap_or(0)
    }

    /// Slots of `destination` lent and not used yet.
    #[must_use]
    pub fn unused(&self, destination: &str) -> usize {
        self.slots
            .lock()
            .ok()
            .and_then(|map| map.get(destination).map(|l| l.slots))
            .unwrap_or(0)
    }

    /// Uses one slot of `destination`: its lease length, or `None` when none is lent.
    pub(crate) fn take(&self, destination: &str) -> Option<i64> {
        let mut map = self.slots.lock().ok()?;
        let lent = map.get_mut(destination)?;
        lent.slots = lent.slots.checked_sub(1)?;
        Some(lent.lease_ms)
    }

    /// Returns a slot taken for a delivery whose transaction did not commit.
    pub(crate) fn give_back(&self, destination: &str) {
        if let Ok(mut map) = self.slots.lock() {
            if let Some(lent) = map.get_mut(destination) {
                lent.slots += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_used_once_and_recalled() {
        let lending = Lending::default();
        assert_eq!(lending.take("a"), None);
        lending.lend("a", 2, 500);
        assert_eq!(lending.take("a"), Some(500));
        assert_eq!(lending.unused("a"), 1);
        lending.give_back("a");
        assert_eq!(lending.recall(), vec![("a".to_owned(), 2)]);
        assert_eq!(lending.take("a"), None);
        lending.lend("a", 1, 500);
        assert_eq!(lending.recall_one("a"), 1);
        assert_eq!(lending.recall(), vec![]);
    }
}
