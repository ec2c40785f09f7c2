//! The event log in the running relay: one writer task that commits what arrives together in one
//! transaction (group commit), and per workspace a tail that feeds the live streams from memory.
//!
//! A stream never has a queue of its own: it pulls from the tail (recent events, each serialised
//! once) or, when it is further behind than the tail holds, from the database. A slow client
//! therefore costs no memory; it only lags, and is disconnected if it stops taking frames.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::config::Limits;
use super::events::NewEvent;
use super::metrics::Metrics;
use super::store::{Appended, Store, StoreError};

struct Job {
    workspace: String,
    events: Vec<NewEvent>,
    done: oneshot::Sender<Result<Vec<Appended>, Arc<StoreError>>>,
}

/// One event, serialised once for every client.
#[derive(Clone)]
pub struct Frame {
    pub seq: i64,
    pub json: Arc<str>,
}

pub struct EventLog {
    store: Store,
    jobs: mpsc::Sender<Job>,
    tails: Mutex<HashMap<String, Arc<Tail>>>,
    limits: Limits,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] Arc<StoreError>),
    #[error("the relay is shutting down")]
    ShuttingDown,
}

impl EventLog {
    /// Starts the writer (and, on PostgreSQL, the NOTIFY listener). The writer finishes every
    /// job already submitted before it stops.
    pub async fn start(
        store: Store,
        limits: Limits,
        metrics: Arc<Metrics>,
        stop: CancellationToken,
    ) -> Result<Arc<EventLog>, StoreError> {
        let (tx, rx) = mpsc::channel(8192);
        let log = Arc::new(EventLog {
            store: store.clone(),
            jobs: tx,
            tails: Mutex::new(HashMap::new()),
            limits,
            metrics,
            stop,
        });
        tokio::spawn(writer(Arc::downgrade(&log), store.clone(), rx));
        if let Store::Postgres(pool) = &store {
            let mut wakeups = super::store::PgWakeups::listen(pool).await?;
            let weak = Arc::downgrade(&log);
            tokio::spawn(async move {
                while let Ok(ws) = wakeups.next().await {
                    let Some(log) = weak.upgrade() else { break };
                    if let Some(t) = log.tails.lock().expect("tails lock").get(&ws) {
                        t.wake.notify_one();
                    }
                }
            });
        }
        Ok(log)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends `events` to `workspace`'s log; returns once they are durable.
    pub async fn append(
        &self,
        workspace: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, LogError> {
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(Job {
                workspace: workspace.into(),
                events,
                done,
            })
            .await
            .map_err(|_| LogError::ShuttingDown)?;
        Ok(rx.await.map_err(|_| LogError::ShuttingDown)??)
    }

    /// The tail of `workspace`, started on first use.
    pub fn tail(self: &Arc<Self>, workspace: &str) -> Arc<Tail> {
        let mut tails = self.tails.lock().expect("tails lock");
        if let Some(t) = tails.get(workspace) {
            return t.clone();
        }
        let (head, _) = watch::channel(-1);
        let tail = Arc::new(Tail {
            workspace: workspace.into(),
            ring: RwLock::new(Ring {
                start: i64::MAX,
                items: VecDeque::new(),
            }),
            head,
            wake: Notify::new(),
            built: Mutex::new(VecDeque::new()),
        });
        tails.insert(workspace.into(), tail.clone());
        tokio::spawn(tailer(self.clone(), tail.clone()));
        tail
    }

    fn wake(&self, workspace: &str) {
        if let Some(t) = self.tails.lock().expect("tails lock").get(workspace) {
            t.wake.notify_one();
        }
    }
}

async fn writer(log: std::sync::Weak<EventLog>, store: Store, mut rx: mpsc::Receiver<Job>) {
    let (max_batch, metrics) = match log.upgrade() {
        Some(l) => (l.limits.max_batch, l.metrics.clone()),
        None => return,
    };
    while let Some(first) = rx.recv().await {
        let mut n = first.events.len();
        let mut jobs = vec![first];
        while n < max_batch {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.events.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        // One batch per workspace, however many webhooks it gathers: each statement (and, on
        // PostgreSQL, each round trip and lock) then serves all of them at once.
        let mut groups: Vec<(String, Vec<NewEvent>)> = Vec::new();
        let mut spans = Vec::with_capacity(jobs.len());
        for job in &mut jobs {
            let g = match groups.iter().position(|(w, _)| *w == job.workspace) {
                Some(g) => g,
                None => {
                    groups.push((job.workspace.clone(), Vec::new()));
                    groups.len() - 1
                }
            };
            let start = groups[g].1.len();
            spans.push((g, start..start + job.events.len()));
            groups[g].1.append(&mut job.events);
        }
        let batches: Vec<(&str, &[NewEvent])> = groups
            .iter()
            .map(|(w, events)| (w.as_str(), events.as_slice()))
            .collect();
        let started = Instant::now();
        let result = store.append(&batches).await;
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.batch_size.observe(n as f64);
        match result {
            Ok(results) => {
                for res in &results {
                    let dups = res.iter().filter(|a| a.duplicate).count() as u64;
                    metrics.duplicates.inc_by(dups);
                    metrics.events_stored.inc_by(res.len() as u64 - dups);
                }
                if let Some(l) = log.upgrade() {
                    for (ws, _) in &groups {
                        l.wake(ws);
                    }
                }
                for (job, (g, span)) in jobs.into_iter().zip(spans) {
                    let _ = job.done.send(Ok(results[g][span].to_vec()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events = n, "could not commit a batch");
                let e = Arc::new(e);
                for job in jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}

struct Ring {
    /// The sequence number of `items[0]`.
    start: i64,
    items: VecDeque<Frame>,
}

/// Recent events of one workspace, and its head.
pub struct Tail {
    pub workspace: String,
    ring: RwLock<Ring>,
    /// The last sequence number known committed (-1 until the tail has read the head).
    head: watch::Sender<i64>,
    wake: Notify,
    /// Recently built frames by (after, last): live clients sit at the same cursor, so each
    /// batch is serialised into a frame once, not once per client.
    built: Mutex<VecDeque<(i64, i64, Utf8Bytes)>>,
}

/// `{"type":"events","events":[…]}` from events already serialised.
pub fn events_frame<'a>(events: impl Iterator<Item = &'a str> + Clone) -> String {
    let len: usize = events.clone().map(|e| e.len() + 1).sum();
    let mut text = String::with_capacity(len + 32);
    text.push_str(r#"{"type":"events","events":["#);
    for (i, e) in events.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(e);
    }
    text.push_str("]}");
    text
}

pub enum Fetch {
    /// The next events after the cursor (at most the number asked), as one text frame shared by
    /// every client at the same cursor, and the last sequence number in it.
    Frame { last: i64, text: Utf8Bytes },
    /// Nothing after the cursor yet.
    UpToDate,
    /// The cursor is older than what the tail holds: read from the database.
    TooOld,
}

impl Tail {
    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    pub fn fetch(&self, after: i64, max: usize) -> Fetch {
        let head = self.head();
        if after >= head {
            return Fetch::UpToDate;
        }
        let last = head.min(after + max as i64);
        {
            let built = self.built.lock().expect("frames lock");
            if let Some((_, _, text)) = built.iter().find(|(a, l, _)| *a == after && *l == last) {
                return Fetch::Frame {
                    last,
                    text: text.clone(),
                };
            }
        }
        let ring = self.ring.read().expect("ring lock");
        if after + 1 < ring.start || ring.items.is_empty() {
            return Fetch::TooOld;
        }
        let from = (after + 1 - ring.start) as usize;
        if from >= ring.items.len() {
            return Fetch::UpToDate;
        }
        let frames: Vec<&Frame> = ring.items.iter().skip(from).take(max).collect();
        let last = frames.last().map_or(after, |f| f.seq);
        let text: Utf8Bytes = events_frame(frames.iter().map(|f| &*f.json)).into();
        drop(ring);
        let mut built = self.built.lock().expect("frames lock");
        if built.len() >= 8 {
            built.pop_front();
        }
        built.push_back((after, last, text.clone()));
        Fetch::Frame { last, text }
    }
}

/// Keeps a tail up to date: reads what was committed after its head whenever the writer (or a
/// NOTIFY from another instance) wakes it, and at every poll interval as a safety net.
async fn tailer(log: Arc<EventLog>, tail: Arc<Tail>) {
    let poll = log.limits.poll_interval();
    let cap = log.limits.tail_events.max(1);
    let mut last = loop {
        match log.store.head(&tail.workspace).await {
            Ok(h) => break h,
            Err(e) => {
                tracing::warn!(error = %e, "reading the head of the log; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {},
                    _ = log.stop.cancelled() => return,
                }
            }
        }
    };
    {
        let mut ring = tail.ring.write().expect("ring lock");
        ring.start = last + 1;
    }
    tail.head.send_replace(last);
    loop {
        loop {
            let events = match log.store.read_after(&tail.workspace, last, 2048).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "reading new events; retrying");
                    break;
                }
            };
            if events.is_empty() {
                break;
            }
            let frames: Vec<Frame> = events
                .iter()
                .map(|e| Frame {
                    seq: e.seq,
                    json: e.to_json().into(),
                })
                .collect();
            let first = frames[0].seq;
            last = frames.last().map_or(last, |f| f.seq);
            {
                let mut ring = tail.ring.write().expect("ring lock");
                if ring.start + ring.items.len() as i64 != first {
                    // Only retention makes a gap; start the ring afresh after it.
                    ring.items.clear();
                    ring.start = first;
                }
                ring.items.extend(frames);
                while ring.items.len() > cap {
                    ring.items.pop_front();
                    ring.start += 1;
                }
            }
            tail.head.send_replace(last);
        }
        tokio::select! {
            _ = tail.wake.notified() => {},
            _ = tokio::time::sleep(poll) => {},
            _ = log.stop.cancelled() => return,
        }
    }
}
