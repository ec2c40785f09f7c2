//! How fast a workspace's numbers send: each number's throughput as Meta last said (its level:
//! standard, or high after Meta's throughput upgrade), and the one budget automated sending takes
//! from it per number, campaigns and bots together, leaving a reserve for people chatting (Meta
//! counts inbound and outbound together).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::workspace::Workspace;

/// Sends that may bunch up after a late timer (the sandbox's meter allows the same jitter).
pub const JITTER: u32 = 5;
/// How long automated sending runs at half its budget after Meta said 130429.
const SLOWED_FOR: Duration = Duration::from_secs(30);

/// What automated sending may take of a number's throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutomationShare {
    /// Share of the number's throughput left to people chatting, in percent.
    pub chat_reserve_pct: u32,
    /// Messages per second for automation; none: the number's throughput minus the reserve.
    pub per_sec: Option<u32>,
}

impl Default for AutomationShare {
    fn default() -> Self {
        AutomationShare {
            chat_reserve_pct: 10,
            per_sec: None,
        }
    }
}

/// Per workspace: the numbers at Meta's high throughput level, and the automation pacers.
#[derive(Default)]
pub(super) struct Levels {
    high: Mutex<HashSet<String>>,
    share: Mutex<AutomationShare>,
    pacers: Mutex<HashMap<String, Arc<AutomationPacer>>>,
}

impl Levels {
    pub(super) fn high(&self) -> HashSet<String> {
        self.high.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the numbers at the high level; the ones before.
    pub(super) fn replace_high(&self, numbers: HashSet<String>) -> HashSet<String> {
        std::mem::replace(
            &mut *self.high.lock().unwrap_or_else(|e| e.into_inner()),
            numbers,
        )
    }
}

impl Workspace {
    pub(super) fn levels(&self) -> Arc<Levels> {
        self.ext()
    }

    /// Messages per second `phone_number_id` may send: its throughput level's rate.
    pub fn number_throughput(&self, phone_number_id: &str) -> u32 {
        let pacing = self.send_pacing();
        if self
            .levels()
            .high
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(phone_number_id)
        {
            pacing.high_throughput_per_sec
        } else {
            pacing.throughput_per_sec
        }
    }

    /// The numbers Meta has moved to its high throughput level (the numbers module knows them
    /// from Meta's numbers and its `THROUGHPUT_UPGRADE` notice). The Graph client and the
    /// automation budget follow at once.
    pub(crate) async fn set_high_throughput_numbers(&self, numbers: HashSet<String>) {
        let before = self.levels().replace_high(numbers.clone());
        if before == numbers {
            return;
        }
        if let Some(client) = self.built_graph_client().await {
            for id in before.union(&numbers) {
                client.set_throughput(id, self.number_throughput(id));
            }
        }
        tracing::info!(
            high = numbers.len(),
            "numbers' throughput levels changed: sends follow"
        );
    }

    /// Sets what automated sending may take of each number's throughput.
    pub fn set_automation_share(&self, share: AutomationShare) {
        *self
            .levels()
            .share
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = share;
    }

    /// Messages per second automated sending (campaigns and bots together) takes on a number.
    pub fn automation_budget(&self, phone_number_id: &str) -> u32 {
        let share = *self
            .levels()
            .share
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        share
            .per_sec
            .unwrap_or_else(|| {
                let rate = self.number_throughput(phone_number_id);
                rate - rate * share.chat_reserve_pct.min(90) / 100
            })
            .max(1)
    }

    /// The number's automation pacer, at its budget now. Campaigns and bots wait their turn at
    /// it before each send; people chatting do not.
    pub fn automation_pacer(&self, phone_number_id: &str) -> Arc<AutomationPacer> {
        let budget = self.automation_budget(phone_number_id);
        let pacer = self
            .levels()
            .pacers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(phone_number_id.to_owned())
            .or_insert_with(|| Arc::new(AutomationPacer::new(budget)))
            .clone();
        pacer.set_budget(budget);
        pacer
    }
}

/// One number's automated sending: evenly spaced at its budget, halved for a while after a
/// 130429, one waiter at a time in the order they came.
pub struct AutomationPacer {
    state: Mutex<PacerState>,
    /// Many tasks polling the limiter together would wake in bunches and lose time.
    turn: tokio::sync::Mutex<()>,
}

struct PacerState {
    budget: u32,
    limiter: Arc<DefaultDirectRateLimiter>,
    slowed_until: Option<Instant>,
}

impl AutomationPacer {
    fn new(budget: u32) -> Self {
        AutomationPacer {
            state: Mutex::new(PacerState {
                budget,
                limiter: Arc::new(limiter(budget)),
                slowed_until: None,
            }),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Messages per second it sends at (its budget, before any slowing down).
    pub fn budget(&self) -> u32 {
        self.state().budget
    }

    fn set_budget(&self, budget: u32) {
        let mut s = self.state();
        if s.slowed_until.is_some_and(|t| t <= Instant::now()) {
            s.slowed_until = None;
            s.limiter = Arc::new(limiter(budget));
        }
        if budget != s.budget && s.slowed_until.is_none() {
            s.limiter = Arc::new(limiter(budget));
        }
        s.budget = budget;
    }

    /// Meta said the number sends too fast (130429): half the budget for a while.
    pub fn slow_down(&self) {
        let mut s = self.state();
        if s.slowed_until.is_some_and(|t| t > Instant::now()) {
            s.slowed_until = Some(Instant::now() + SLOWED_FOR);
            return;
        }
        tracing::info!(
            budget = s.budget,
            "Meta said the number sends too fast (130429): automated sending slows down for 30 s"
        );
        s.limiter = Arc::new(limiter((s.budget / 2).max(1)));
        s.slowed_until = Some(Instant::now() + SLOWED_FOR);
    }

    /// Waits for this send's turn.
    pub async fn until_ready(&self) {
        let _turn = self.turn.lock().await;
        let limiter = self.state().limiter.clone();
        limiter.until_ready().await;
    }
}

/// Evenly spaced at `per_sec`, with a burst of a few sends so that a timer waking late does not
/// lose the time.
fn limiter(per_sec: u32) -> DefaultDirectRateLimiter {
    let per_sec = NonZeroU32::new(per_sec.max(1)).expect("max(1) is non-zero");
    let burst = NonZeroU32::new(JITTER.min(per_sec.get())).expect("at least 1");
    RateLimiter::direct(
        Quota::with_period(Duration::from_secs(1) / per_sec.get())
            .expect("a non-zero period")
            .allow_burst(burst),
    )
}
