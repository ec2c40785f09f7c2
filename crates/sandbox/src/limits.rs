//! Meta's two sending limits, as GCRA token buckets (`governor`) counted on the sandbox clock:
//! throughput per phone number (error 130429, default 80 messages/s, 1,000 after the number's
//! throughput upgrade) and the pair rate from one number to one recipient (error 131056, default
//! a burst of 45 then one per 6 s).

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use super::clock::SandboxClock;
use super::config::SandboxConfig;
use super::error::Refusal;

type Keyed<K> = RateLimiter<K, HashMapStateStore<K>, SandboxClock, NoOpMiddleware<Nanos>>;

pub(crate) struct Limits {
    clock: SandboxClock,
    mps: u32,
    high_mps: u32,
    throughput: Keyed<String>,
    /// The numbers Meta moved to its high throughput level, and their bucket.
    upgraded: Mutex<HashSet<String>>,
    high: Keyed<String>,
    pair: Keyed<(String, String)>,
    meter: Meter,
}

/// The rate at which a number's calls (messages and read receipts) reached the sandbox, measured
/// in real time: what a client's pacing looks like from Meta's side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SendRate {
    /// Calls accepted in all.
    pub accepted: u64,
    /// Calls refused with 130429 (over the number's throughput).
    pub refused: u64,
    /// The most calls accepted in any one second (a sliding window).
    pub max_in_one_second: u64,
    /// Calls that came faster than the rate allows beyond a burst of [`JITTER_BURST`]: a steady
    /// pacer at the rate has none, while two pacers sharing the number make many.
    pub over_rate: u64,
    /// From the first accepted call to the last, in milliseconds.
    pub span_ms: u64,
    /// The longest wait between two accepted calls, and when it began (ms after the first): a
    /// client that stalls shows it here.
    pub longest_gap_ms: u64,
    pub longest_gap_at_ms: u64,
}

/// Calls a well-paced client may bunch up by network jitter before the meter counts them over rate.
pub const JITTER_BURST: u32 = 5;

/// Each number's accepted calls (times since the sandbox started, at most the last 200,000) and
/// a strict bucket at the number's rate that counts the calls above it.
struct Meter {
    start: std::time::Instant,
    strict: governor::DefaultKeyedRateLimiter<String>,
    strict_high: governor::DefaultKeyedRateLimiter<String>,
    log: std::sync::Mutex<std::collections::HashMap<String, NumberLog>>,
}

#[derive(Default)]
struct NumberLog {
    at_us: std::collections::VecDeque<u64>,
    accepted: u64,
    refused: u64,
    over_rate: u64,
}

const METER_KEEP: usize = 200_000;

impl Meter {
    fn new(mps: NonZeroU32, high_mps: NonZeroU32) -> Self {
        let strict = |mps| {
            RateLimiter::keyed(
                Quota::per_second(mps)
                    .allow_burst(NonZeroU32::new(JITTER_BURST).expect("non-zero")),
            )
        };
        Meter {
            start: std::time::Instant::now(),
            strict: strict(mps),
            strict_high: strict(high_mps),
            log: Default::default(),
        }
    }

    fn record(&self, number: &str, accepted: bool, high: bool) {
        let strict = if high {
            &self.strict_high
        } else {
            &self.strict
        };
        let over = accepted && strict.check_key(&number.to_owned()).is_err();
        let at = self.start.elapsed().as_micros() as u64;
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let n = log.entry(number.to_owned()).or_default();
        if !accepted {
            n.refused += 1;
            return;
        }
        n.accepted += 1;
        n.over_rate += u64::from(over);
        if n.at_us.len() == METER_KEEP {
            n.at_us.pop_front();
        }
        n.at_us.push_back(at);
    }

    fn rate(&self, number: &str) -> SendRate {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let Some(n) = log.get(number) else {
            return SendRate {
                accepted: 0,
                refused: 0,
                max_in_one_second: 0,
                over_rate: 0,
                span_ms: 0,
                longest_gap_ms: 0,
                longest_gap_at_ms: 0,
            };
        };
        let (mut max, mut from) = (0usize, 0usize);
        for (i, &t) in n.at_us.iter().enumerate() {
            while t - n.at_us[from] >= 1_000_000 {
                from += 1;
            }
            max = max.max(i - from + 1);
        }
        let (mut gap, mut gap_at) = (0u64, 0u64);
        let first = n.at_us.front().copied().unwrap_or(0);
        for (a, b) in n.at_us.iter().zip(n.at_us.iter().skip(1)) {
            if b - a > gap {
                gap = b - a;
                gap_at = a - first;
            }
        }
        let span = match (n.at_us.front(), n.at_us.back()) {
            (Some(a), Some(b)) => (b - a) / 1000,
            _ => 0,
        };
        SendRate {
            accepted: n.accepted,
            refused: n.refused,
            max_in_one_second: max as u64,
            over_rate: n.over_rate,
            span_ms: span,
            longest_gap_ms: gap / 1000,
            longest_gap_at_ms: gap_at / 1000,
        }
    }
}

impl Limits {
    pub fn new(config: &SandboxConfig, clock: SandboxClock) -> Self {
        let mps = NonZeroU32::new(config.throughput_mps).unwrap_or(NonZeroU32::MIN);
        let high_mps = NonZeroU32::new(config.high_throughput_mps).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.pair_burst).unwrap_or(NonZeroU32::MIN);
        let pair_quota = Quota::with_period(config.pair_interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Limits {
            throughput: RateLimiter::hashmap_with_clock(Quota::per_second(mps), clock.clone()),
            upgraded: Mutex::default(),
            high: RateLimiter::hashmap_with_clock(Quota::per_second(high_mps), clock.clone()),
            pair: RateLimiter::hashmap_with_clock(pair_quota, clock.clone()),
            mps: mps.get(),
            high_mps: high_mps.get(),
            meter: Meter::new(mps, high_mps),
            clock,
        }
    }

    /// Moves a number to the high throughput level (Meta's throughput upgrade).
    pub fn upgrade(&self, phone_number_id: &str) {
        self.upgraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(phone_number_id.to_owned());
    }

    /// Whether the number is at the high throughput level.
    pub fn is_high(&self, phone_number_id: &str) -> bool {
        self.upgraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(phone_number_id)
    }

    /// Takes one message from the number's throughput bucket, or refuses with 130429.
    pub fn throughput(&self, phone_number_id: &str) -> Result<(), Refusal> {
        let high = self.is_high(phone_number_id);
        let (bucket, mps) = if high {
            (&self.high, self.high_mps)
        } else {
            (&self.throughput, self.mps)
        };
        let checked = bucket.check_key(&phone_number_id.to_owned());
        self.meter.record(phone_number_id, checked.is_ok(), high);
        checked.map_err(|not_until| {
                let wait = not_until.wait_time_from(Clock::now(&self.clock));
                Refusal::new(
                    130429,
                    format!(
                        "phone number {phone_number_id} reached its throughput limit of {mps} messages per second; retry in {} ms",
                        ceil_ms(wait)
                    ),
                )
            })
    }

    /// How fast `phone_number_id`'s calls came.
    pub fn rate(&self, phone_number_id: &str) -> SendRate {
        self.meter.rate(phone_number_id)
    }

    /// Takes one message from the (number, recipient) pair bucket, or refuses with 131056.
    pub fn pair(&self, phone_number_id: &str, recipient: &str) -> Result<(), Refusal> {
        self.pair
            .check_key(&(phone_number_id.to_owned(), recipient.to_owned()))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(Clock::now(&self.clock));
                Refusal::new(
                    131056,
                    format!(
                        "Message failed to send because there were too many messages sent from this phone number to the same phone number ({recipient}) in a short period of time; retry in {} ms",
                        ceil_ms(wait)
                    ),
                )
            })
    }
}

fn ceil_ms(d: Duration) -> u128 {
    d.as_micros().div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn limits(mps: u32, burst: u32) -> (Limits, SandboxClock) {
        let clock = SandboxClock::frozen_at(UNIX_EPOCH + Duration::from_secs(1_000_000));
        let config = SandboxConfig {
            throughput_mps: mps,
            pair_burst: burst,
            ..SandboxConfig::default()
        };
        (Limits::new(&config, clock.clone()), clock)
    }

    #[test]
    fn throughput_bucket_refills_on_the_sandbox_clock() {
        let (l, clock) = limits(3, 45);
        for _ in 0..3 {
            l.throughput("p1").unwrap();
        }
        let e = l.throughput("p1").unwrap_err();
        assert_eq!(e.code(), 130429);
        assert!(
            e.error.message.contains("3 messages per second"),
            "{}",
            e.error.message
        );
        l.throughput("p2")
            .expect("another number has its own bucket");
        clock.advance(Duration::from_secs(1));
        l.throughput("p1").expect("refilled");
    }

    #[test]
    fn an_upgraded_number_sends_at_the_high_throughput() {
        let (l, _) = limits(3, 45);
        for _ in 0..3 {
            l.throughput("p1").unwrap();
        }
        assert_eq!(l.throughput("p1").unwrap_err().code(), 130429);
        l.upgrade("p1");
        assert!(l.is_high("p1") && !l.is_high("p2"));
        // The default high level is 1,000 a second: the frozen clock's second has room for it.
        for _ in 0..1_000 {
            l.throughput("p1").expect("within the high level");
        }
        let e = l.throughput("p1").unwrap_err();
        assert!(
            e.error.message.contains("1000 messages per second"),
            "{}",
            e.error.message
        );
        for _ in 0..3 {
            l.throughput("p2").unwrap();
        }
        assert_eq!(
            l.throughput("p2").unwrap_err().code(),
            130429,
            "the others keep theirs"
        );
    }

    #[test]
    fn the_meter_measures_the_busiest_second_and_calls_over_rate() {
        let (l, _) = limits(1_000, 45);
        for _ in 0..20 {
            l.throughput("p1").unwrap();
        }
        let r = l.rate("p1");
        assert_eq!(r.accepted, 20);
        assert_eq!(r.max_in_one_second, 20);
        assert_eq!(
            r.over_rate,
            20 - u64::from(JITTER_BURST),
            "20 at once, 5 allowed"
        );
        assert_eq!(l.rate("p2").accepted, 0);
    }

    #[test]
    fn pair_limit_allows_a_burst_then_one_per_interval() {
        let (l, clock) = limits(80, 2);
        l.pair("p", "a").unwrap();
        l.pair("p", "a").unwrap();
        let e = l.pair("p", "a").unwrap_err();
        assert_eq!(e.code(), 131056);
        assert!(
            e.error.message.contains("retry in 6000 ms"),
            "{}",
            e.error.message
        );
        l.pair("p", "b").expect("another recipient");
        clock.advance(Duration::from_secs(6));
        l.pair("p", "a").expect("one more after 6 s");
        assert!(l.pair("p", "a").is_err());
    }
}
