//! The dispatch loop: claim what is due for every destination that can take more, send each
//! claimed delivery on its own task, and report every attempt back to the store in batches.
//!
//! Per destination it keeps, in memory only, what needs no durability: how many sends are in
//! flight, the circuit breaker and the rate limiter. What must survive a crash (the delivery,
//! its attempts, a destination disabled by `410`) is in the store.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use hookgate_core::{Attempt, AttemptRecord, Destination, NextStep, Router};
use hookgate_store::{ClaimRequest, Claimed, Lending, Store};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::send::{Sender, Verdict};

/// How often the loop looks for due retries when nothing wakes it.
const POLL: Duration = Duration::from_millis(250);
/// Most deliveries claimed for one destination in one round.
const CLAIM_BATCH: usize = 512;
/// Most attempt reports written in one store call.
const RECORD_BATCH: usize = 1024;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Why the delivery side could not start (or take a reloaded configuration).
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// A destination could not be prepared (its HTTP client, URL or signing key).
    #[error("cannot set up destination {destination}: {reason}")]
    Destination { destination: String, reason: String },
}

/// A destination's circuit, as operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    /// No sends until the cooldown ends.
    Open,
    /// One probe is allowed; its result closes or reopens the circuit.
    HalfOpen,
}

#[derive(Debug)]
struct Circuit {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

impl Circuit {
    fn state(&self, now: Instant) -> CircuitState {
        match self.open_until {
            None => CircuitState::Closed,
            Some(until) if now < until => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
        }
    }
}

/// A token bucket: `rate` attempts per second, bursts up to `max(1, rate)`.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn available(&mut self, now: Instant) -> usize {
        let burst = self.rate.max(1.0);
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(burst);
        self.at = now;
        // Truncation intended: whole attempts only.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = self.tokens.floor().max(0.0) as usize;
        whole
    }

    fn take(&mut self, n: usize) {
        #[allow(clippy::cast_precision_loss)]
        let n = n as f64;
        self.tokens -= n;
    }
}

#[derive(Debug)]
struct Lane {
    sender: Arc<Sender>,
    metrics: Arc<LaneMetrics>,
    in_flight: usize,
    circuit: Circuit,
    bucket: Option<Bucket>,
    last_error: Option<String>,
    delivered: u64,
    failed: u64,
}

/// A lane's metric handles, registered once: looking a labelled metric up by name on every
/// attempt was a few percent of the delivery path.
struct LaneMetrics {
    delivered: metrics::Counter,
    gone: metrics::Counter,
    dead: metrics::Counter,
    retry: metrics::Counter,
    duration: metrics::Histogram,
    lag: metrics::Histogram,
}

impl std::fmt::Debug for LaneMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaneMetrics").finish_non_exhaustive()
    }
}

impl LaneMetrics {
    fn new(destination: &str) -> Self {
        let outcome = |outcome: &'static str| metrics::counter!("hookgate_deliveries_total", "destination" => destination.to_owned(), "outcome" => outcome);
        Self {
            delivered: outcome("delivered"),
            gone: outcome("gone"),
            dead: outcome("dead"),
            retry: outcome("retry"),
            duration: metrics::histogram!("hookgate_delivery_duration_seconds", "destination" => destination.to_owned()),
            lag: metrics::histogram!("hookgate_delivery_lag_seconds", "destination" => destination.to_owned()),
        }
    }
}

/// A destination's health, for the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub destination: String,
    pub circuit: CircuitState,
    pub in_flight: usize,
    pub consecutive_failures: u32,
    pub delivered: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// The delivery side of one hookgate process.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// Lock order: `lanes` before the lending's own lock, never the other way round.
    lanes: Mutex<HashMap<String, Lane>>,
    /// Free slots of lanes that take new deliveries straight from the store (see `Lending`);
    /// a lent slot counts as in flight until recalled or used.
    lending: Arc<Lending>,
    /// Woken when a send finishes, so freed capacity is used at once.
    freed: Notify,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

struct Report {
    destination: String,
    record: AttemptRecord,
    verdict_ok: bool,
}

impl Dispatcher {
    /// # Errors
    /// An HTTP client cannot be built.
    pub fn new(store: Arc<dyn Store>, router: &Router) -> Result<Self, DispatchError> {
        let mut lanes = HashMap::new();
        for destination in &router.destinations {
            lanes.insert(destination.name.clone(), lane(destination)?);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                lanes: Mutex::new(lanes),
                lending: Arc::new(Lending::default()),
                freed: Notify::new(),
            }),
        })
    }

    /// Takes a reloaded configuration's destinations: new ones get a lane, changed ones a
    /// new sender (their circuit and in-flight count carry over), removed ones stop being
    /// claimed for (a send already running finishes; one claimed but not started is given
    /// back).
    ///
    /// # Errors
    /// An HTTP client cannot be built; nothing is changed then.
    pub fn reload(&self, router: &Router) -> Result<(), DispatchError> {
        let mut fresh = HashMap::new();
        for destination in &router.destinations {
            fresh.insert(destination.name.clone(), lane(destination)?);
        }
        let Ok(mut lanes) = self.inner.lanes.lock() else {
            return Ok(());
        };
        for (name, mut new) in fresh {
            if let Some(old) = lanes.remove(&name) {
                new.in_flight = old.in_flight;
                new.circuit = old.circuit;
                new.last_error = old.last_error;
                new.delivered = old.delivered;
                new.failed = old.failed;
            }
            lanes.insert(name, new);
        }
        lanes.retain(|name, _| {
            let keep = router.destination(name).is_some();
            if !keep {
                // Counted nowhere once the lane is gone: a lane of that name added back later
                // starts from nothing in flight.
                self.inner.lending.recall_one(name);
            }
            keep
        });
        drop(lanes);
        self.inner.freed.notify_one();
        Ok(())
    }

    /// Every destination's health, sorted by name.
    #[must_use]
    pub fn health(&self) -> Vec<Health> {
        let now = Instant::now();
        let Ok(lanes) = self.inner.lanes.lock() else {
            return Vec::new();
        };
        let mut out: Vec<Health> = lanes
            .iter()
            .map(|(name, lane)| Health {
                destination: name.clone(),
                circuit: lane.circuit.state(now),
                in_flight: lane
                    .in_flight
                    .saturating_sub(self.inner.lending.unused(name)),
                consecutive_failures: lane.circuit.failures,
                delivered: lane.delivered,
                failed: lane.failed,
                last_error: lane.last_error.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.destination.cmp(&b.destination));
        out
    }

    /// Runs until `shutdown`; then stops claiming and waits up to `grace` for sends in flight
    /// (their reports are recorded; anything still running keeps its lease and is retried
    /// after a restart).
    pub async fn run(self, shutdown: CancellationToken, grace: Duration) {
        let (reports, rx) = mpsc::unbounded_channel::<Report>();
        let recorder = tokio::spawn(record_loop(self.clone(), rx));
        let gauges = tokio::spawn(gauge_loop(self.clone(), shutdown.clone()));
        let work = self.inner.store.work_signal();
        let mut handoffs = self.inner.store.lend(Arc::clone(&self.inner.lending));
        let mut tasks = tokio::task::JoinSet::new();
        let spawn =
            |tasks: &mut tokio::task::JoinSet<()>, claimed: Claimed, destination: String| {
                let this = self.clone();
                let reports = reports.clone();
                tasks.spawn(async move {
                    let report = this.attempt(&destination, claimed).await;
                    let _ = reports.send(report);
                });
            };
        // Whether the store may hold due deliveries nobody has claimed: new events that found no
        // lent slot, retries, replays. Cleared once a claim comes back short of what it asked.
        let mut due = true;
        loop {
            let mut again = false;
            if due {
                // What is due goes first: the slots lent for new events come back to be claimed
                // with (the rest is lent again below).
                self.recall();
                let round = self.claim_round().await;
                if let Some(full) = round.full {
                    due = full;
                    again = full;
                }
                for (claimed, destination) in round.claimed {
                    spawn(&mut tasks, claimed, destination);
                }
            }
            if handoffs.is_some() {
                self.lend_free();
            }
            while tasks.try_join_next().is_some() {}
            if again {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = work.notified() => due = true,
                () = self.inner.freed.notified() => {}
                () = tokio::time::sleep(POLL) => due = true,
                handed = recv(&mut handoffs) => match handed {
                    Some(handed) => {
                        let (send, give_back) = self.split_handoffs(handed);
                        for claimed in send {
                            let destination = claimed.delivery.destination.clone();
                            spawn(&mut tasks, claimed, destination);
                        }
                        for claimed in give_back {
                            // Due now; the claim decides when its lane can take it.
                            let _ = reports.send(self.release(&claimed.delivery.destination, &claimed, now_ms()));
                        }
                    }
                    None => handoffs = None,
                },
            }
        }
        // Nothing more goes out: slots still lent come back, and deliveries handed over from
        // now on keep their lease (they are claimed again after a restart).
        drop(handoffs);
        self.recall();
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                () = &mut deadline => {
                    tracing::warn!(in_flight = tasks.len(), "shutdown: deliveries still in flight keep their lease and are retried after restart");
                    tasks.abort_all();
                    break;
                }
            }
        }
        drop(reports);
        let _ = recorder.await;
        gauges.abort();
    }

    /// Takes back the slots lent to the store and not used.
    fn recall(&self) {
        let back = self.inner.lending.recall();
        if back.is_empty() {
            return;
        }
        let Ok(mut lanes) = self.inner.lanes.lock() else {
            return;
        };
        for (name, slots) in back {
            if let Some(lane) = lanes.get_mut(&name) {
                lane.in_flight = lane.in_flight.saturating_sub(slots);
            }
        }
    }

    /// Lends every free slot of the lanes that can take a new delivery the moment it is
    /// stored (unordered, unthrottled, circuit closed), and takes back what was lent to a lane
    /// that no longer can (a reload changed it). Slots stay lent between rounds: taking them
    /// back each time left gaps in which new deliveries found none and waited for a claim.
    fn lend_free(&self) {
        let now = Instant::now();
        let Ok(mut lanes) = self.inner.lanes.lock() else {
            return;
        };
        for (name, lane) in lanes.iter_mut() {
            if !lane.lends(now) {
                let back = self.inner.lending.recall_one(name);
                lane.in_flight = lane.in_flight.saturating_sub(back);
                continue;
            }
            let free = lane
                .sender
                .destination
                .max_in_flight
                .saturating_sub(lane.in_flight);
            if free > 0 {
                self.inner.lending.lend(name, free, lane.lease_ms());
                lane.in_flight += free;
            }
        }
    }

    /// Splits deliveries handed over by the store into those to send now and those to give
    /// back: a lane that no longer lends (a circuit opened, or a reload changed or removed the
    /// destination, since the slot was lent) takes none. One look at the lanes per batch.
    fn split_handoffs(&self, handed: Vec<Claimed>) -> (Vec<Claimed>, Vec<Claimed>) {
        let now = Instant::now();
        let Ok(lanes) = self.inner.lanes.lock() else {
            return (Vec::new(), handed);
        };
        handed.into_iter().partition(|claimed| {
            lanes
                .get(&claimed.delivery.destination)
                .is_some_and(|lane| lane.lends(now))
        })
    }

    /// Claims for every destination with room: free slots, a closed (or probing) circuit,
    /// and rate tokens.
    async fn claim_round(&self) -> Round {
        let now = Instant::now();
        let requests: Vec<ClaimRequest> = {
            let Ok(mut lanes) = self.inner.lanes.lock() else {
                return Round::default();
            };
            lanes
                .iter_mut()
                .filter_map(|(name, lane)| {
                    let d = &lane.sender.destination;
                    let cap = if d.ordered { 1 } else { d.max_in_flight };
                    let mut free = cap.saturating_sub(lane.in_flight).min(CLAIM_BATCH);
                    match lane.circuit.state(now) {
                        CircuitState::Closed => {}
                        CircuitState::Open => free = 0,
                        CircuitState::HalfOpen => {
                            free = if lane.circuit.probing || lane.in_flight > 0 {
                                0
                            } else {
                                1
                            };
                        }
                    }
                    if let Some(bucket) = &mut lane.bucket {
                        free = free.min(bucket.available(now));
                    }
                    (free > 0).then(|| ClaimRequest {
                        destination: name.clone(),
                        limit: free,
                        ordered: d.ordered,
                        lease_ms: lane.lease_ms(),
                    })
                })
                .collect()
        };
        if requests.is_empty() {
            // No room anywhere: nothing learned about what is due.
            return Round::default();
        }
        let mut asked: HashMap<String, usize> = requests
            .iter()
            .map(|r| (r.destination.clone(), r.limit))
            .collect();
        let claimed = match self.inner.store.claim(now_ms(), requests).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim deliveries; will retry");
                tokio::time::sleep(POLL).await;
                return Round {
                    claimed: Vec::new(),
                    full: Some(true),
                };
            }
        };
        let Ok(mut lanes) = self.inner.lanes.lock() else {
            return Round::default();
        };
        let now = Instant::now();
        let mut out = Vec::with_capacity(claimed.len());
        for c in claimed {
            let name = c.delivery.destination.clone();
            if let Some(left) = asked.get_mut(&name) {
                *left = left.saturating_sub(1);
            }
            if let Some(lane) = lanes.get_mut(&name) {
                lane.in_flight += 1;
                if lane.circuit.state(now) == CircuitState::HalfOpen {
                    lane.circuit.probing = true;
                }
                if let Some(bucket) = &mut lane.bucket {
                    bucket.take(1);
                }
            }
            out.push((c, name));
        }
        Round {
            claimed: out,
            full: Some(asked.values().any(|left| *left == 0)),
        }
    }

    async fn attempt(&self, destination: &str, claimed: Claimed) -> Report {
        // The lane's sender, so its client (and connection pool) is reused.
        let Some((sender, metrics)) = self.sender_of(destination) else {
            // The destination left the config while this was claimed: give it back.
            return self.release(destination, &claimed, now_ms() + 60_000);
        };
        let sent = sender.send(&claimed.delivery, &claimed.event).await;
        let config = &sender.destination;
        let n = claimed.delivery.attempts + 1;
        let policy = &config.retry;
        let now = now_ms();
        let (next, ok, error) = match &sent.verdict {
            Verdict::Delivered => (NextStep::Delivered, true, None),
            Verdict::Permanent(reason) => (NextStep::Dead, false, Some(reason.clone())),
            Verdict::Failed(reason) | Verdict::Gone(reason) => {
                let next = match policy.delay(n, rand::random::<f64>()) {
                    Some(wait) => NextStep::RetryAt(now + millis(wait)),
                    None => NextStep::Dead,
                };
                (next, false, Some(reason.clone()))
            }
            Verdict::RetryAfter(reason, wait) => {
                let next = if policy.delay(n, 0.5).is_some() {
                    NextStep::RetryAt(now + millis((*wait).min(policy.max_delay())))
                } else {
                    NextStep::Dead
                };
                (
                    next,
                    false,
                    Some(format!("{reason}, Retry-After {}s", wait.as_secs())),
                )
            }
        };
        let outcome = match (&sent.verdict, &next) {
            (Verdict::Delivered, _) => &metrics.delivered,
            (Verdict::Gone(_), _) => &metrics.gone,
            (_, NextStep::Dead) => &metrics.dead,
            _ => &metrics.retry,
        };
        outcome.increment(1);
        metrics.duration.record(sent.duration.as_secs_f64());
        if ok {
            // Receipt to delivery, retries included: what the receiving application waited.
            #[allow(clippy::cast_precision_loss)]
            let lag = (now - claimed.event.received_at_ms).max(0) as f64 / 1000.0;
            metrics.lag.record(lag);
        }
        if let Verdict::Gone(reason) = &sent.verdict {
            let reason = format!("{reason} (delivery {})", claimed.delivery.id);
            tracing::warn!(destination, %reason, "destination disabled");
            if let Err(e) = self
                .inner
                .store
                .set_destination_disabled(destination, Some(reason), now)
                .await
            {
                tracing::error!(destination, error = %e, "cannot disable destination");
            }
        }
        Report {
            destination: destination.to_owned(),
            record: AttemptRecord {
                delivery: claimed.delivery.id,
                attempt: Some(Attempt {
                    n,
                    started_at_ms: sent.started_at_ms,
                    duration_ms: u64::try_from(sent.duration.as_millis()).unwrap_or(u64::MAX),
                    status_code: sent.status_code,
                    exit_code: sent.exit_code,
                    excerpt: sent.excerpt,
                    error,
                }),
                next,
            },
            verdict_ok: ok,
        }
    }

    fn sender_of(&self, destination: &str) -> Option<(Arc<Sender>, Arc<LaneMetrics>)> {
        let lanes = self.inner.lanes.lock().ok()?;
        lanes
            .get(destination)
            .map(|lane| (Arc::clone(&lane.sender), Arc::clone(&lane.metrics)))
    }

    /// Gives a delivery back unattempted, due again at `at` (unix ms).
    fn release(&self, destination: &str, claimed: &Claimed, at: i64) -> Report {
        Report {
            destination: destination.to_owned(),
            record: AttemptRecord {
                delivery: claimed.delivery.id,
                attempt: None,
                next: NextStep::Release(at),
            },
            verdict_ok: false,
        }
    }

    /// Books a finished send against its lane: frees the slot, moves the circuit.
    fn settle(&self, report: &Report) {
        let Ok(mut lanes) = self.inner.lanes.lock() else {
            return;
        };
        let Some(lane) = lanes.get_mut(&report.destination) else {
            return;
        };
        lane.in_flight = lane.in_flight.saturating_sub(1);
        if report.record.attempt.is_none() {
            return;
        }
        let policy = lane.sender.destination.circuit;
        let was_probe = lane.circuit.probing;
        lane.circuit.probing = false;
        if report.verdict_ok {
            lane.delivered += 1;
            lane.circuit.failures = 0;
            lane.circuit.open_until = None;
        } else {
            lane.failed += 1;
            lane.last_error = report.record.attempt.as_ref().and_then(|a| a.error.clone());
            lane.circuit.failures = lane.circuit.failures.saturating_add(1);
            if policy.failures > 0 && (was_probe || lane.circuit.failures >= policy.failures) {
                if lane.circuit.open_until.is_none() || was_probe {
                    tracing::warn!(destination = %report.destination, failures = lane.circuit.failures, "circuit open");
                }
                lane.circuit.open_until = Some(Instant::now() + policy.cooldown);
                // Nothing new goes out while open: the slots lent for new events come back.
                let back = self.inner.lending.recall_one(&report.destination);
                lane.in_flight = lane.in_flight.saturating_sub(back);
            }
        }
    }
}

/// Publishes per-destination gauges (backlog, in flight, circuit state) every two seconds, and
/// once at start so every series exists before the first event.
async fn gauge_loop(dispatcher: Dispatcher, shutdown: CancellationToken) {
    loop {
        let backlog = dispatcher.inner.store.backlog().await.unwrap_or_default();
        for health in dispatcher.health() {
            let pending = backlog
                .iter()
                .find(|(name, _)| *name == health.destination)
                .map_or(0, |(_, n)| *n);
            let name = health.destination;
            #[allow(clippy::cast_precision_loss)]
            {
                metrics::gauge!("hookgate_delivery_backlog", "destination" => name.clone())
                    .set(pending as f64);
                metrics::gauge!("hookgate_delivery_in_flight", "destination" => name.clone())
                    .set(health.in_flight as f64);
            }
            let state = match health.circuit {
                CircuitState::Closed => 0.0,
                CircuitState::HalfOpen => 1.0,
                CircuitState::Open => 2.0,
            };
            metrics::gauge!("hookgate_circuit_state", "destination" => name).set(state);
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

#[derive(Default)]
struct Round {
    claimed: Vec<(Claimed, String)>,
    /// Whether some destination got all it asked for, so more may be due; `None` when nothing
    /// was asked (no room anywhere), which says nothing about what is due.
    full: Option<bool>,
}

impl Lane {
    fn lends(&self, now: Instant) -> bool {
        !self.sender.destination.ordered
            && self.bucket.is_none()
            && self.circuit.state(now) == CircuitState::Closed
    }

    fn lease_ms(&self) -> i64 {
        millis(self.sender.lease())
    }
}

/// The next batch handed over by the store; pending forever when the store does not lend.
async fn recv(
    handoffs: &mut Option<mpsc::UnboundedReceiver<Vec<Claimed>>>,
) -> Option<Vec<Claimed>> {
    match handoffs {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn lane(destination: &Arc<Destination>) -> Result<Lane, DispatchError> {
    let bucket = destination.rate_limit.map(|rate| Bucket {
        rate,
        tokens: rate.max(1.0),
        at: Instant::now(),
    });
    Ok(Lane {
        sender: Arc::new(Sender::new(Arc::clone(destination)).map_err(|source| {
            DispatchError::Destination {
                destination: destination.name.clone(),
                reason: source,
            }
        })?),
        metrics: Arc::new(LaneMetrics::new(&destination.name)),
        in_flight: 0,
        circuit: Circuit {
            failures: 0,
            open_until: None,
            probing: false,
        },
        bucket,
        last_error: None,
        delivered: 0,
        failed: 0,
    })
}

/// Writes reports in batches: under load one store call (one group commit) covers many
/// attempts. A report is booked against its lane only once it is durable, so an ordered
/// destination's next delivery is never claimed before its head has moved on.
async fn record_loop(dispatcher: Dispatcher, mut rx: mpsc::UnboundedReceiver<Report>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let records: Vec<AttemptRecord> = batch.iter().map(|r| r.record.clone()).collect();
        let mut wait = Duration::from_millis(100);
        while let Err(e) = dispatcher
            .inner
            .store
            .record(records.clone(), now_ms())
            .await
        {
            if matches!(e, hookgate_store::StoreError::Closed) {
                return;
            }
            tracing::warn!(error = %e, "cannot record attempts; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
        for report in batch.drain(..) {
            dispatcher.settle(&report);
        }
        dispatcher.inner.freed.notify_one();
    }
}
