//! Meta's two sending limits, as GCRA token buckets (`governor`) counted on the sandbox clock:
//! throughput per phone number (error 130429, default 80 messages/s) and the pair rate from one
//! number to one recipient (error 131056, default a burst of 45 then one per 6 s).

use std::num::NonZeroU32;
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
    throughput: Keyed<String>,
    pair: Keyed<(String, String)>,
}

impl Limits {
    pub fn new(config: &SandboxConfig, clock: SandboxClock) -> Self {
        let mps = NonZeroU32::new(config.throughput_mps).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.pair_burst).unwrap_or(NonZeroU32::MIN);
        let pair_quota = Quota::with_period(config.pair_interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Limits {
            throughput: RateLimiter::hashmap_with_clock(Quota::per_second(mps), clock.clone()),
            pair: RateLimiter::hashmap_with_clock(pair_quota, clock.clone()),
            mps: mps.get(),
            clock,
        }
    }

    /// Takes one message from the number's throughput bucket, or refuses with 130429.
    pub fn throughput(&self, phone_number_id: &str) -> Result<(), Refusal> {
        self.throughput
            .check_key(&phone_number_id.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(Clock::now(&self.clock));
                Refusal::new(
                    130429,
                    format!(
                        "phone number {phone_number_id} reached its throughput limit of {} messages per second; retry in {} ms",
                        self.mps,
                        ceil_ms(wait)
                    ),
                )
            })
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
