//! Work due at a moment of sandbox time: the next status of a message, a template review, a
//! simulated customer's answer. The runner sleeps until the earliest job is due, and wakes at
//! once when a job is added or the clock is advanced.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use tokio::sync::Notify;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Job {
    /// Report the next status of a message the business sent.
    Status { wamid: String, stage: Stage },
    /// Approve or reject a PENDING template (if it was not edited since).
    Review { template_id: String, revision: u64 },
    /// A simulated customer answers a message they read.
    AutoReply { wamid: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Delivered,
    Read,
    /// Failed with this error code (131026 undeliverable by default).
    Failed(i64),
}

#[derive(Default)]
pub(crate) struct Scheduler {
    queue: Mutex<BTreeMap<(SystemTime, u64), Job>>,
    seq: AtomicU64,
    pub(crate) wake: Notify,
}

impl Scheduler {
    /// Runs `job` once sandbox time reaches `at`. Jobs due at the same moment run in the order
    /// they were added.
    pub fn at(&self, at: SystemTime, job: Job) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        self.lock().insert((at, seq), job);
        self.wake.notify_one();
    }

    /// Removes and returns every job due at `now`, in order.
    pub fn take_due(&self, now: SystemTime) -> Vec<Job> {
        let mut q = self.lock();
        let mut due = Vec::new();
        while let Some(entry) = q.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }

    pub fn next_due(&self) -> Option<SystemTime> {
        self.lock().keys().next().map(|(t, _)| *t)
    }

    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(SystemTime, u64), Job>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn jobs_come_out_in_time_then_insertion_order() {
        let s = Scheduler::default();
        let t = UNIX_EPOCH + Duration::from_secs(100);
        let job = |n: &str| Job::AutoReply { wamid: n.into() };
        s.at(t + Duration::from_secs(5), job("late"));
        s.at(t, job("a"));
        s.at(t, job("b"));
        assert_eq!(s.next_due(), Some(t));
        assert!(s.take_due(t - Duration::from_secs(1)).is_empty());
        assert_eq!(s.take_due(t), vec![job("a"), job("b")]);
        assert_eq!(s.pending(), 1);
        assert_eq!(s.take_due(t + Duration::from_secs(60)), vec![job("late")]);
    }
}
