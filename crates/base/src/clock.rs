//! [`Clock`]: the one notion of "now" — real time plus an offset that can only grow.
//!
//! Everything time-based reads a clock: in the sandbox, the 24-hour customer-service window,
//! template review delays, status timing, token expiry, media URL expiry and the rate limiters;
//! in a workspace, its timestamps, the customer-service window it shows and enforces, and its
//! timers ([`Clock::sleep`]). A sandbox workspace and its sandbox share one clock, so advancing
//! it (tests, the sandbox panel) moves Meta and the desktop together; a live workspace's clock is
//! real time and never advanced. Tests move time forward with [`Clock::advance`] instead of
//! sleeping; whatever waits on the clock is woken at once through a `watch` channel.
//!
//! A *frozen* clock does not follow real time at all: it moves only when advanced. Tests that
//! count rate-limit tokens use it so that no refill can happen between two requests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::nanos::Nanos;
use tokio::sync::watch;

/// A clock that runs with real time (unless frozen) plus an offset added by [`advance`].
///
/// Cloning is cheap and every clone shows the same time.
///
/// [`advance`]: Clock::advance
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    origin_wall: SystemTime,
    origin_mono: Instant,
    frozen: bool,
    offset: Mutex<Duration>,
    changed: watch::Sender<u64>,
}

impl Clock {
    /// A clock that follows real time.
    pub fn new() -> Self {
        Self::build(SystemTime::now(), false)
    }

    /// A clock that starts at `start` and moves only when advanced.
    pub fn frozen_at(start: SystemTime) -> Self {
        Self::build(start, true)
    }

    fn build(origin_wall: SystemTime, frozen: bool) -> Self {
        let (changed, _) = watch::channel(0);
        Clock {
            inner: Arc::new(Inner {
                origin_wall,
                origin_mono: Instant::now(),
                frozen,
                offset: Mutex::new(Duration::ZERO),
                changed,
            }),
        }
    }

    /// Clock time now.
    pub fn now(&self) -> SystemTime {
        let offset = *lock(&self.inner.offset);
        let elapsed = if self.inner.frozen {
            Duration::ZERO
        } else {
            self.inner.origin_mono.elapsed()
        };
        later(later(self.inner.origin_wall, elapsed), offset)
    }

    /// Clock time now, in whole seconds since the Unix epoch (Meta's webhook timestamps).
    pub fn unix_secs(&self) -> u64 {
        unix_secs(self.now())
    }

    /// Moves clock time forward by `by` and wakes everything waiting on the clock.
    pub fn advance(&self, by: Duration) {
        {
            let mut offset = lock(&self.inner.offset);
            *offset = offset.saturating_add(by);
        }
        self.inner
            .changed
            .send_modify(|generation| *generation += 1);
        tracing::debug!(secs = by.as_secs_f64(), "clock advanced");
    }

    /// How far the clock has been advanced in total.
    pub fn offset(&self) -> Duration {
        *lock(&self.inner.offset)
    }

    /// Whether the clock moves only when advanced.
    pub fn is_frozen(&self) -> bool {
        self.inner.frozen
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    /// Waits until clock time reaches `at`: in real time as the clock follows it, sooner when the
    /// clock is advanced past `at` meanwhile.
    pub async fn sleep_until(&self, at: SystemTime) {
        let mut changed = self.subscribe();
        loop {
            match self.real_wait_until(at) {
                Some(wait) if wait.is_zero() => return,
                Some(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = changed.changed() => {}
                    }
                }
                None => {
                    if changed.changed().await.is_err() {
                        return; // cannot happen: the clock holds the sender
                    }
                }
            }
        }
    }

    /// Waits `d` of clock time (see [`Clock::sleep_until`]).
    pub async fn sleep(&self, d: Duration) {
        self.sleep_until(later(self.now(), d)).await
    }

    /// A receiver that changes whenever the clock is advanced.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// How long, in real time, until clock time reaches `at`: zero when it already has, `None`
    /// when the clock is frozen (only [`advance`](Self::advance) can get there).
    pub fn real_wait_until(&self, at: SystemTime) -> Option<Duration> {
        let now = self.now();
        match at.duration_since(now) {
            Err(_) => Some(Duration::ZERO),
            Ok(wait) if wait.is_zero() => Some(Duration::ZERO),
            Ok(_) if self.inner.frozen => None,
            Ok(wait) => Some(wait),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("now_unix", &self.unix_secs())
            .field("offset", &self.offset())
            .field("frozen", &self.inner.frozen)
            .finish()
    }
}

/// Rate limiters (governor) can count time on a clock too, so that advancing it refills them.
impl governor::clock::Clock for Clock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let since = Clock::now(self)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Nanos::new(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// The latest moment a clock represents (about the year 2514): time saturates here.
const END_OF_TIME: Duration = Duration::from_secs(1 << 34);

/// `t + d`, saturating at [`END_OF_TIME`] instead of overflowing.
pub fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .filter(|t| {
            t.duration_since(UNIX_EPOCH)
                .is_ok_and(|since| since <= END_OF_TIME)
        })
        .unwrap_or(UNIX_EPOCH + END_OF_TIME)
}

/// Seconds since the Unix epoch (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let start = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        let clock = Clock::frozen_at(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.unix_secs(), 1_750_000_090);
        assert_eq!(clock.offset(), Duration::from_secs(90));
        assert_eq!(clock.real_wait_until(start), Some(Duration::ZERO));
        assert_eq!(
            clock.real_wait_until(start + Duration::from_secs(100)),
            None
        );
    }

    #[tokio::test]
    async fn a_sleep_ends_when_the_clock_is_advanced_past_it() {
        let clock = Clock::frozen_at(UNIX_EPOCH + Duration::from_secs(1_000));
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(3_600)).await }
        });
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1_800));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "half way is not there yet");
        clock.advance(Duration::from_secs(1_800));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleep ends once the clock reaches its end")
            .unwrap();
        assert_eq!(clock.now_ms(), 4_600_000);
    }

    #[test]
    fn huge_advances_saturate_instead_of_panicking() {
        let clock = Clock::new();
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), UNIX_EPOCH + END_OF_TIME);
        assert_eq!(later(clock.now(), Duration::MAX), UNIX_EPOCH + END_OF_TIME);
        let _ = governor::clock::Clock::now(&clock);
    }

    #[test]
    fn real_clock_adds_the_offset_to_real_time() {
        // Read before the clock exists: the clock starts at wall time and then follows the
        // monotonic clock, so it can only be at or after this.
        let before = SystemTime::now();
        let clock = Clock::new();
        clock.advance(Duration::from_secs(24 * 3600));
        let now = clock.now();
        assert!(now >= before + Duration::from_secs(24 * 3600));
        let wait = clock
            .real_wait_until(now + Duration::from_secs(10))
            .expect("a real clock gets there by itself");
        assert!(wait <= Duration::from_secs(10));
    }

    #[tokio::test]
    async fn advancing_wakes_subscribers() {
        let clock = Clock::frozen_at(UNIX_EPOCH);
        let mut rx = clock.subscribe();
        let c2 = clock.clone();
        let waiter = tokio::spawn(async move { rx.changed().await.is_ok() });
        c2.advance(Duration::from_secs(1));
        let woke = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        assert!(woke);
    }

    #[test]
    fn governor_sees_clock_time() {
        let clock = Clock::frozen_at(UNIX_EPOCH + Duration::from_secs(10));
        let a = governor::clock::Clock::now(&clock);
        clock.advance(Duration::from_secs(6));
        let b = governor::clock::Clock::now(&clock);
        assert_eq!(
            Duration::from(b) - Duration::from(a),
            Duration::from_secs(6)
        );
    }
}
