//! The event log in the running relay: one writer that commits what arrives together in one
//! transaction (group commit; on SQLite a thread with its own connection, on PostgreSQL a task),
//! and per workspace a tail that feeds the live streams from memory. The writer hands what it
//! committed straight to the tail; the tail reads the database only for what it did not get that
//! way (another instance's events on PostgreSQL, or a race at start-up).
//!
//! A stream never has a queue of its own: it pulls from the tail (recent events, each serialised
//! once) or, when it is further behind than the tail holds, from the database. A slow client
//! therefore costs no memory; it only lags, and is disconnected if it stops taking frames.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::config::Limits;
use super::events::{NewEvent, StoredEvent};
use super::metrics::Metrics;
use super::store::{Appended, Store, StoreError, postgres, sqlite};
use crmconnect_events::kinds::{self, Read};

struct Job {
    workspace: String,
    events: Vec<NewEvent>,
    done: oneshot::Sender<Result<Vec<Appended>, Arc<StoreError>>>,
}

/// One event, serialised once for every client.
#[derive(Clone)]
pub struct Frame {
    pub seq: i64,
    /// What a token needs to receive it.
    pub read: Read,
    pub json: Arc<str>,
}

impl Frame {
    pub fn of(e: &StoredEvent) -> Frame {
        Frame {
            seq: e.seq,
            read: kinds::read_required(&e.event.kind),
            json: e.to_json().into(),
        }
    }
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
        let (weak, max_batch, window, metrics) = (
            Arc::downgrade(&log),
            log.limits.max_batch,
            log.limits.commit_window(),
            log.metrics.clone(),
        );
        match &store {
            Store::Sqlite(pool) => {
                let (ready, started) = oneshot::channel();
                let pool = pool.clone();
                std::thread::Builder::new()
                    .name("relay-writer".into())
                    .spawn(move || {
                        sqlite::run_writer(&pool, ready, |appender| {
                            sqlite_writer(weak, appender, rx, max_batch, window, metrics)
                        })
                    })
                    .map_err(|e| StoreError::Raw(format!("starting the writer thread: {e}")))?;
                started
                    .await
                    .map_err(|_| StoreError::Raw("the writer thread stopped".into()))??;
            }
            Store::Postgres(pool) => {
                tokio::spawn(writer(weak, pool.clone(), rx, max_batch, window, metrics));
            }
        }
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
                bytes: 0,
            }),
            head,
            wake: Notify::new(),
            built: Mutex::new(VecDeque::new()),
        });
        tails.insert(workspace.into(), tail.clone());
        tokio::spawn(tailer(self.clone(), tail.clone()));
        tail
    }
}

/// Jobs taken together, regrouped into one batch per workspace however many webhooks they are:
/// each statement (and, on PostgreSQL, each round trip and lock) then serves all of them.
struct Gathered {
    jobs: Vec<Job>,
    events: usize,
    groups: Vec<(String, Vec<NewEvent>)>,
    /// Where each job's events are: its group, and their range in it.
    spans: Vec<(usize, std::ops::Range<usize>)>,
}

impl Gathered {
    /// `first` and whatever else is already waiting, up to `max` events.
    fn take(first: Job, rx: &mut mpsc::Receiver<Job>, max: usize) -> Gathered {
        let mut events = first.events.len();
        let mut jobs = vec![first];
        while events < max {
            match rx.try_recv() {
                Ok(j) => {
                    events += j.events.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
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
        Gathered {
            jobs,
            events,
            groups,
            spans,
        }
    }

    fn batches(&self) -> Vec<(&str, &[NewEvent])> {
        self.groups
            .iter()
            .map(|(w, events)| (w.as_str(), events.as_slice()))
            .collect()
    }

    /// Records the commit, wakes the tails and answers every job.
    fn finish(
        self,
        result: Result<Vec<Vec<Appended>>, StoreError>,
        now: i64,
        started: Instant,
        log: &std::sync::Weak<EventLog>,
        metrics: &Metrics,
    ) {
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.batch_size.observe(self.events as f64);
        match result {
            Ok(results) => {
                for res in &results {
                    let dups = res.iter().filter(|a| a.duplicate).count() as u64;
                    metrics.duplicates.inc_by(dups);
                    metrics.events_stored.inc_by(res.len() as u64 - dups);
                }
                for (job, (g, span)) in self.jobs.into_iter().zip(&self.spans) {
                    let _ = job.done.send(Ok(results[*g][span.clone()].to_vec()));
                }
                let Some(log) = log.upgrade() else { return };
                // The tail of each workspace gets what was just committed from here, serialised
                // once, instead of reading it back from the database.
                for ((workspace, events), appended) in self.groups.into_iter().zip(results) {
                    let tail = log
                        .tails
                        .lock()
                        .expect("tails lock")
                        .get(&workspace)
                        .cloned();
                    let Some(tail) = tail else { continue };
                    let frames: Vec<Frame> = events
                        .into_iter()
                        .zip(appended)
                        .filter(|(_, a)| !a.duplicate)
                        .map(|(event, a)| {
                            Frame::of(&StoredEvent {
                                seq: a.seq,
                                received_at: now,
                                event,
                            })
                        })
                        .collect();
                    if !tail.extend(frames, log.limits.tail_cap(), false) {
                        tail.wake.notify_one();
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events = self.events, "could not commit a batch");
                let e = Arc::new(e);
                for job in self.jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// When the writer commits next (see `Limits::commit_window_us`): at once when idle; under load
/// (the last commit took more than one webhook), one window after the last commit started.
struct Pace {
    window: Duration,
    last: Option<Instant>,
    busy: bool,
}

impl Pace {
    fn new(window: Duration) -> Pace {
        Pace {
            window,
            last: None,
            busy: false,
        }
    }

    /// How long to gather before the next commit, if at all.
    fn wait(&self) -> Option<Duration> {
        let since = self.last?.elapsed();
        (self.busy && since < self.window).then(|| self.window - since)
    }

    fn started(&mut self, at: Instant, jobs: usize) {
        self.last = Some(at);
        self.busy = jobs > 1;
    }
}

/// The writer on PostgreSQL: a task, as every statement is a network round trip anyway.
async fn writer(
    log: std::sync::Weak<EventLog>,
    pool: sqlx::PgPool,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    window: Duration,
    metrics: Arc<Metrics>,
) {
    let mut pace = Pace::new(window);
    while let Some(first) = rx.recv().await {
        if let Some(wait) = pace.wait() {
            tokio::time::sleep(wait).await;
        }
        let gathered = Gathered::take(first, &mut rx, max_batch);
        let (started, now) = (Instant::now(), super::store::now_ms());
        pace.started(started, gathered.jobs.len());
        let result = postgres::append(&pool, &gathered.batches(), now).await;
        gathered.finish(result, now, started, &log, &metrics);
    }
}

/// The writer on SQLite: a thread of its own with its own connection (see [`sqlite::Appender`]).
fn sqlite_writer(
    log: std::sync::Weak<EventLog>,
    appender: &mut sqlite::Appender<'_>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    window: Duration,
    metrics: Arc<Metrics>,
) {
    let mut pace = Pace::new(window);
    while let Some(first) = rx.blocking_recv() {
        if let Some(wait) = pace.wait() {
            std::thread::sleep(wait);
        }
        let gathered = Gathered::take(first, &mut rx, max_batch);
        let (started, now) = (Instant::now(), super::store::now_ms());
        pace.started(started, gathered.jobs.len());
        let result = appender.append(&gathered.batches(), now);
        gathered.finish(result, now, started, &log, &metrics);
    }
}

struct Ring {
    /// The sequence number of `items[0]`.
    start: i64,
    items: VecDeque<Frame>,
    /// The bytes of the items' JSON.
    bytes: usize,
}

/// How much a tail keeps: whichever of the two is reached first.
#[derive(Debug, Clone, Copy)]
pub struct TailCap {
    pub events: usize,
    pub bytes: usize,
}

/// How much one frame carries: whichever of the two is reached first, and always one event.
#[derive(Debug, Clone, Copy)]
pub struct FrameCap {
    pub events: usize,
    pub bytes: usize,
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
    built: Mutex<VecDeque<(i64, Arc<Built>)>>,
}

/// A frame of events built once for every client at the same cursor: its JSON text and, for the
/// clients that asked for compressed frames, the same text compressed (made on first use).
pub struct Built {
    /// The last sequence number the frame accounts for (its last event, or a later one the
    /// client may not read).
    pub last: i64,
    /// It stopped at its cap, not at the head: reusable however far the head has moved since.
    full: bool,
    pub text: Utf8Bytes,
    lz4: OnceLock<Bytes>,
}

impl Built {
    pub fn new(last: i64, text: Utf8Bytes) -> Self {
        Built {
            last,
            full: false,
            text,
            lz4: OnceLock::new(),
        }
    }

    /// The frame's text compressed with [`compress`], shared by every client that takes it.
    pub fn lz4(&self) -> Bytes {
        self.lz4.get_or_init(|| compress(&self.text)).clone()
    }
}

/// A compressed frame: the text's length as 4 bytes little-endian, then its LZ4 block (the
/// layout of `lz4_flex::compress_prepend_size`; see docs/relay.md).
pub fn compress(text: &str) -> Bytes {
    Bytes::from(lz4_flex::compress_prepend_size(text.as_bytes()))
}

/// The largest text a compressed frame may claim, and the largest message a desktop reads: a
/// frame holds events up to its byte cap plus one event, and one event is at most a webhook
/// body ([`crate::config::Limits::max_body_bytes`], which the configuration keeps below this).
pub const MAX_FRAME_TEXT: usize = 32 << 20;

/// The text of a frame made by [`compress`].
pub fn decompress(frame: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::new();
    let len = decompress_into(frame, &mut bytes)?.len();
    bytes.truncate(len);
    String::from_utf8(bytes).map_err(|_| "a compressed frame that is not UTF-8 text".to_owned())
}

/// The bytes of a frame made by [`compress`], decompressed into the start of `out`: the slice
/// returned. A reader that keeps one buffer allocates and zeroes memory only when a frame is
/// larger than any before (`out` never shrinks, so a frame after a smaller one does not zero
/// the difference again; that memset was 2% of the relay bench's CPU). Not checked as UTF-8.
pub fn decompress_into<'o>(frame: &[u8], out: &'o mut Vec<u8>) -> Result<&'o [u8], String> {
    let (len, block) = frame
        .split_first_chunk::<4>()
        .ok_or("a compressed frame shorter than its 4-byte length")?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > MAX_FRAME_TEXT {
        return Err(format!(
            "a compressed frame claims {len} bytes, more than the {MAX_FRAME_TEXT} allowed"
        ));
    }
    if out.len() < len {
        out.resize(len, 0);
    }
    let out = &mut out[..len];
    let n = lz4_flex::block::decompress_into(block, out)
        .map_err(|e| format!("a corrupt frame: {e}"))?;
    if n != len {
        return Err(format!(
            "a corrupt frame: it claims {len} bytes and holds {n}"
        ));
    }
    Ok(out)
}

/// `{"type":"events","events":[…],"through":n}` from events already serialised: `through` is the
/// last sequence number the frame accounts for, which is after its last event when the client
/// may not read the events that follow it.
pub fn events_frame<'a>(events: impl Iterator<Item = &'a str> + Clone, through: i64) -> String {
    let len: usize = events.clone().map(|e| e.len() + 1).sum();
    let mut text = String::with_capacity(len + 48);
    text.push_str(r#"{"type":"events","events":["#);
    for (i, e) in events.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(e);
    }
    text.push_str(r#"],"through":"#);
    text.push_str(&through.to_string());
    text.push('}');
    text
}

/// The events after `after` a frame carries: at most `cap`, those `may_read` allows. Returns
/// them, the last sequence number looked at, and whether the cap stopped it.
pub fn take_frame<'f>(
    frames: impl Iterator<Item = &'f Frame>,
    cap: FrameCap,
    may_read: &dyn Fn(Read) -> bool,
) -> (Vec<&'f Frame>, Option<i64>, bool) {
    let (mut out, mut last, mut bytes, mut seen) = (Vec::new(), None, 0usize, 0usize);
    for f in frames {
        if seen >= cap.events.max(1) || (seen > 0 && bytes >= cap.bytes) {
            return (out, last, true);
        }
        seen += 1;
        last = Some(f.seq);
        if may_read(f.read) {
            bytes += f.json.len();
            out.push(f);
        }
    }
    (out, last, false)
}

pub enum Fetch {
    /// The next events after the cursor (at most the number asked), as one frame shared by every
    /// client at the same cursor.
    Frame(Arc<Built>),
    /// Nothing after the cursor yet.
    UpToDate,
    /// The cursor is older than what the tail holds: read from the database.
    TooOld,
}

impl Tail {
    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    /// Adds committed events after the head; those at or below it are here already (the writer
    /// and the tailer may both bring them). Events that do not follow the head are added only
    /// when `gap_is_retention` (read from the log: what is missing was deleted); otherwise
    /// nothing is added and `false` returned, and the tailer reads them from the log.
    fn extend(&self, frames: Vec<Frame>, cap: TailCap, gap_is_retention: bool) -> bool {
        let mut ring = self.ring.write().expect("ring lock");
        let head = self.head();
        if head < 0 {
            return false; // the tailer has not read the head yet
        }
        let mut frames = frames.into_iter().filter(|f| f.seq > head).peekable();
        let Some(first) = frames.peek().map(|f| f.seq) else {
            return true;
        };
        if first != head + 1 || ring.start + ring.items.len() as i64 != first {
            if !gap_is_retention {
                return false;
            }
            ring.items.clear();
            ring.bytes = 0;
            ring.start = first;
        }
        for f in frames {
            ring.bytes += f.json.len();
            ring.items.push_back(f);
        }
        let last = ring.items.back().map_or(head, |f| f.seq);
        while ring.items.len() > cap.events || (ring.bytes > cap.bytes && !ring.items.is_empty()) {
            if let Some(f) = ring.items.pop_front() {
                ring.bytes -= f.json.len();
            }
            ring.start += 1;
        }
        self.head.send_replace(last);
        true
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The next frame after `after` for a client that reads what `may_read` allows; `shared`
    /// when that is everything, so that every such client at the same cursor gets one frame
    /// built once.
    pub fn fetch(
        &self,
        after: i64,
        cap: FrameCap,
        shared: bool,
        may_read: &dyn Fn(Read) -> bool,
    ) -> Fetch {
        let head = self.head();
        if after >= head {
            return Fetch::UpToDate;
        }
        if shared {
            let built = self.built.lock().expect("frames lock");
            if let Some((_, b)) = built
                .iter()
                .find(|(a, b)| *a == after && (b.full || b.last == head))
            {
                return Fetch::Frame(b.clone());
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
        let (frames, last, full) = take_frame(ring.items.iter().skip(from), cap, may_read);
        let last = last.unwrap_or(after);
        let text: Utf8Bytes = events_frame(frames.iter().map(|f| &*f.json), last).into();
        drop(ring);
        let b = Arc::new(Built {
            full,
            ..Built::new(last, text)
        });
        if shared {
            let mut built = self.built.lock().expect("frames lock");
            if built.len() >= 8 {
                built.pop_front();
            }
            built.push_back((after, b.clone()));
        }
        Fetch::Frame(b)
    }
}

/// Keeps a tail up to date: reads what was committed after its head whenever the writer (or a
/// NOTIFY from another instance) wakes it, and at every poll interval as a safety net.
async fn tailer(log: Arc<EventLog>, tail: Arc<Tail>) {
    let poll = log.limits.poll_interval();
    let cap = log.limits.tail_cap();
    let last = loop {
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
            let events = match log
                .store
                .read_after(&tail.workspace, tail.head(), 2048)
                .await
            {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "reading new events; retrying");
                    break;
                }
            };
            if events.is_empty() {
                break;
            }
            let frames: Vec<Frame> = events.iter().map(Frame::of).collect();
            // Read from the log, a gap can only be retention's.
            tail.extend(frames, cap, true);
        }
        tokio::select! {
            _ = tail.wake.notified() => {},
            _ = tokio::time::sleep(poll) => {},
            _ = log.stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_frame_round_trips_and_a_damaged_one_is_refused_by_name() {
        let text = events_frame(["{\"seq\":1,\"kind\":\"status\"}"; 50].into_iter(), 1);
        let frame = compress(&text);
        assert!(
            frame.len() * 5 < text.len(),
            "{} of {}",
            frame.len(),
            text.len()
        );
        assert_eq!(decompress(&frame).unwrap(), text);

        let e = decompress(&frame[..3]).unwrap_err();
        assert!(e.contains("shorter than its 4-byte length"), "{e}");
        let mut huge = frame.to_vec();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = decompress(&huge).unwrap_err();
        assert!(e.contains("claims 4294967295 bytes"), "{e}");
        let mut cut = frame.to_vec();
        cut.truncate(frame.len() - 5);
        let e = decompress(&cut).unwrap_err();
        assert!(e.contains("a corrupt frame"), "{e}");
        let e = decompress(&compress_bytes(&[0xff, 0xfe])).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
        let mut long = frame.to_vec();
        long[..4].copy_from_slice(&(text.len() as u32 + 10).to_le_bytes());
        let e = decompress(&long).unwrap_err();
        assert!(e.contains("a corrupt frame"), "{e}");

        // One buffer for frames of any size: a smaller frame after a larger one is exactly itself.
        let mut buf = Vec::new();
        assert_eq!(decompress_into(&frame, &mut buf).unwrap(), text.as_bytes());
        let small = events_frame(["{\"seq\":2}"].into_iter(), 2);
        assert_eq!(
            decompress_into(&compress(&small), &mut buf).unwrap(),
            small.as_bytes()
        );
        // A corrupt frame into a buffer that held a longer one is refused, not read past its end.
        let mut cut = compress(&small).to_vec();
        cut.truncate(cut.len() - 2);
        assert!(decompress_into(&cut, &mut buf).is_err());
    }

    #[test]
    fn the_writer_waits_for_a_window_only_while_webhooks_come_faster_than_it_commits() {
        let window = Duration::from_millis(50);
        let mut pace = Pace::new(window);
        assert_eq!(pace.wait(), None, "the first commit waits for nothing");

        // A commit of one webhook: the relay keeps up, the next one commits at once.
        pace.started(Instant::now(), 1);
        assert_eq!(pace.wait(), None);

        // A commit that took several: the next one waits out the rest of the window.
        let at = Instant::now();
        pace.started(at, 3);
        let wait = pace.wait().expect("a wait under load");
        assert!(wait <= window && wait + at.elapsed() >= window, "{wait:?}");

        // Once the window has passed there is nothing left to wait for.
        pace.started(Instant::now() - window, 3);
        assert_eq!(pace.wait(), None);

        // A window of 0 never waits.
        let mut never = Pace::new(Duration::ZERO);
        never.started(Instant::now(), 100);
        assert_eq!(never.wait(), None);
    }

    fn compress_bytes(bytes: &[u8]) -> Vec<u8> {
        lz4_flex::compress_prepend_size(bytes)
    }

    fn tail_at(head: i64) -> Tail {
        let (tx, _) = watch::channel(head);
        Tail {
            workspace: "w".into(),
            ring: RwLock::new(Ring {
                start: head + 1,
                items: VecDeque::new(),
                bytes: 0,
            }),
            head: tx,
            wake: Notify::new(),
            built: Mutex::new(VecDeque::new()),
        }
    }

    fn frames(seqs: std::ops::RangeInclusive<i64>) -> Vec<Frame> {
        seqs.map(|seq| Frame {
            seq,
            read: Read::Anyone,
            json: format!("{{\"seq\":{seq}}}").into(),
        })
        .collect()
    }

    fn cap(events: usize) -> TailCap {
        TailCap {
            events,
            bytes: usize::MAX,
        }
    }

    fn fcap(events: usize) -> FrameCap {
        FrameCap {
            events,
            bytes: usize::MAX,
        }
    }

    fn all(_: Read) -> bool {
        true
    }

    fn seqs(t: &Tail) -> Vec<i64> {
        t.ring.read().unwrap().items.iter().map(|f| f.seq).collect()
    }

    #[test]
    fn the_writer_and_the_tailer_may_both_bring_an_event_and_it_is_kept_once() {
        let t = tail_at(0);
        assert!(t.extend(frames(1..=3), cap(100), false));
        // The tailer read 2..=5 from the log meanwhile: 2 and 3 are already here.
        assert!(t.extend(frames(2..=5), cap(100), true));
        assert_eq!(seqs(&t), vec![1, 2, 3, 4, 5]);
        assert_eq!(t.head(), 5);
    }

    #[test]
    fn a_gap_is_left_to_the_tailer_unless_retention_made_it() {
        let t = tail_at(0);
        assert!(
            !t.extend(frames(3..=4), cap(100), false),
            "1 and 2 are missing"
        );
        assert_eq!(t.head(), 0);
        assert!(seqs(&t).is_empty());
        // Read from the log, a gap means the events were deleted: the ring starts afresh.
        assert!(t.extend(frames(3..=4), cap(100), true));
        assert_eq!(seqs(&t), vec![3, 4]);
    }

    #[test]
    fn nothing_is_added_before_the_head_is_known_and_the_ring_keeps_its_cap() {
        let t = tail_at(-1);
        assert!(!t.extend(frames(1..=2), cap(100), false));
        let t = tail_at(0);
        assert!(t.extend(frames(1..=10), cap(4), false));
        assert_eq!(seqs(&t), vec![7, 8, 9, 10]);
        assert_eq!(t.ring.read().unwrap().start, 7);
        assert!(matches!(t.fetch(2, fcap(10), true, &all), Fetch::TooOld));
        assert!(matches!(t.fetch(8, fcap(10), true, &all), Fetch::Frame(b) if b.last == 10));
    }

    #[test]
    fn the_ring_keeps_its_byte_cap_and_frames_stop_at_theirs() {
        let t = tail_at(0);
        let big = |seq: i64| Frame {
            seq,
            read: Read::Anyone,
            json: format!("{{\"seq\":{seq},\"pad\":\"{}\"}}", "x".repeat(1000)).into(),
        };
        let cap = TailCap {
            events: 100,
            bytes: 5_000,
        };
        assert!(t.extend((1..=10).map(big).collect(), cap, false));
        // Ten events of about 1 KB each and a 5 KB cap: the four newest are kept.
        assert_eq!(seqs(&t), vec![7, 8, 9, 10]);
        assert_eq!(t.ring.read().unwrap().start, 7);
        assert!(t.ring.read().unwrap().bytes <= 5_000);

        // A frame takes events until their bytes reach its cap, and always one.
        let frames: Vec<Frame> = (1..=10).map(big).collect();
        let fc = |bytes| FrameCap { events: 512, bytes };
        let (taken, last, full) = take_frame(frames.iter(), fc(2_500), &all);
        assert_eq!((taken.len(), last, full), (3, Some(3), true));
        let (taken, last, full) = take_frame(frames.iter(), fc(1), &all);
        assert_eq!((taken.len(), last, full), (1, Some(1), true));
        let (taken, last, full) = take_frame(frames.iter(), fc(1 << 20), &all);
        assert_eq!((taken.len(), last, full), (10, Some(10), false));
    }

    #[test]
    fn a_frame_leaves_out_what_the_client_may_not_read_and_still_accounts_for_it() {
        let t = tail_at(0);
        let frames: Vec<Frame> = (1..=6)
            .map(|seq| Frame {
                seq,
                read: if seq % 2 == 0 {
                    Read::Admin
                } else {
                    Read::Anyone
                },
                json: format!("{{\"seq\":{seq}}}").into(),
            })
            .collect();
        assert!(t.extend(frames, cap(100), false));
        let not_admin = |r: Read| r != Read::Admin;
        let Fetch::Frame(b) = t.fetch(0, fcap(100), false, &not_admin) else {
            panic!("a frame")
        };
        assert_eq!(b.last, 6);
        assert_eq!(
            &*b.text,
            r#"{"type":"events","events":[{"seq":1},{"seq":3},{"seq":5}],"through":6}"#
        );
        // A frame of nothing readable still moves the client on.
        let Fetch::Frame(b) = t.fetch(5, fcap(100), false, &not_admin) else {
            panic!("a frame")
        };
        assert_eq!(&*b.text, r#"{"type":"events","events":[],"through":6}"#);
        // Filtered frames are the client's own, never handed to another at the same cursor.
        let Fetch::Frame(b) = t.fetch(0, fcap(100), true, &all) else {
            panic!("a frame")
        };
        assert!(b.text.contains(r#"{"seq":2}"#), "{}", &*b.text);
    }
}
