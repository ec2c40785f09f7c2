//! What applies a received event: handlers, registered by the module that owns the event's effect
//! (chat's projection, templates' status), so that neither the workspace nor the sync engine names
//! a domain module. A module submits its handler with [`inventory::submit!`] and a
//! [`DefaultHandler`]; every workspace registers them all when it opens.
//!
//! A handler says where it runs. A projection runs on every replica (each desktop, and the runner)
//! and must be idempotent: a crash between applying a batch and saving the cursor applies it again.
//! Automation (a bot answering, the campaign dispatcher) runs only where automation runs, so that
//! five desktops receiving one message answer it once, not five times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;

use crate::Result;
use crate::relay::events::ReceivedEvent;
use crate::workspace::Workspace;

/// Where a handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On every replica: what each desktop shows.
    EveryReplica,
    /// Only on the replica that runs the workspace's automation.
    AutomationOnly,
}

/// Applies received events of the kinds it knows; ignores the rest.
pub trait Handler: Send + Sync {
    /// For logs and errors: `chat projection`.
    fn name(&self) -> &'static str;
    fn scope(&self) -> Scope;
    fn apply<'a>(
        &'a self,
        ws: &'a Workspace,
        event: &'a ReceivedEvent,
    ) -> BoxFuture<'a, Result<()>>;

    /// Applies a run of consecutive events of one kind (catching up). By default one by one; a
    /// handler may apply them together (one transaction) when the effect is the same.
    fn apply_run<'a>(
        &'a self,
        ws: &'a Workspace,
        run: &'a [&'a ReceivedEvent],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for e in run {
                self.apply(ws, e).await?;
            }
            Ok(())
        })
    }
}

/// A handler every workspace registers when it opens, submitted by the module that owns it:
/// `inventory::submit! { DefaultHandler { order: 10, make: handler } }`. They apply an event in
/// `order`.
pub struct DefaultHandler {
    pub order: u32,
    pub make: fn() -> Arc<dyn Handler>,
}

inventory::collect!(DefaultHandler);

/// The submitted handlers, in their order.
pub fn defaults() -> Vec<Arc<dyn Handler>> {
    let mut all: Vec<&DefaultHandler> = inventory::iter::<DefaultHandler>.into_iter().collect();
    all.sort_by_key(|d| d.order);
    all.into_iter().map(|d| (d.make)()).collect()
}

/// A workspace's handlers, in the order they were registered (and are applied).
#[derive(Default)]
pub struct Handlers {
    list: RwLock<Vec<Arc<dyn Handler>>>,
    automation: AtomicBool,
}

impl Handlers {
    pub fn register(&self, handler: Arc<dyn Handler>) {
        self.list
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(handler);
    }

    /// Whether this replica runs automation (the active runner). Off by default.
    pub fn set_automation(&self, on: bool) {
        self.automation.store(on, Ordering::SeqCst);
    }

    pub fn runs_automation(&self) -> bool {
        self.automation.load(Ordering::SeqCst)
    }

    /// The handlers that run on this replica, in order.
    pub fn for_replica(&self) -> Vec<Arc<dyn Handler>> {
        let automation = self.runs_automation();
        self.list
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|h| automation || h.scope() == Scope::EveryReplica)
            .cloned()
            .collect()
    }

    pub fn names(&self) -> Vec<(&'static str, Scope)> {
        self.list
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|h| (h.name(), h.scope()))
            .collect()
    }
}

/// A team event's payload, read and checked. One this version cannot read, or one no desktop of
/// ours would make (`problem` says why), is skipped with a warning naming it, not retried for
/// ever: `None`.
pub fn read_payload<T: serde::de::DeserializeOwned>(
    e: &ReceivedEvent,
    problem: impl FnOnce(&T) -> Option<String>,
) -> Option<T> {
    let payload = match serde_json::from_str::<T>(e.raw.get()) {
        Ok(p) => p,
        Err(err) => {
            tracing::warn!(seq = e.seq, kind = %e.kind, error = %err, "a team event that cannot be read is skipped");
            return None;
        }
    };
    if let Some(problem) = problem(&payload) {
        tracing::warn!(seq = e.seq, kind = %e.kind, problem, "a team event no desktop could make is skipped");
        return None;
    }
    Some(payload)
}

/// A handler from a function, for the common case of a module's `apply` function.
pub struct FnHandler<F> {
    pub name: &'static str,
    pub scope: Scope,
    pub apply: F,
}

impl<F> Handler for FnHandler<F>
where
    F: for<'a> Fn(&'a Workspace, &'a ReceivedEvent) -> BoxFuture<'a, Result<()>> + Send + Sync,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn scope(&self) -> Scope {
        self.scope
    }

    fn apply<'a>(
        &'a self,
        ws: &'a Workspace,
        event: &'a ReceivedEvent,
    ) -> BoxFuture<'a, Result<()>> {
        (self.apply)(ws, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str, Scope);

    impl Handler for Named {
        fn name(&self) -> &'static str {
            self.0
        }
        fn scope(&self) -> Scope {
            self.1
        }
        fn apply<'a>(
            &'a self,
            _: &'a Workspace,
            _: &'a ReceivedEvent,
        ) -> BoxFuture<'a, Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn automation_handlers_run_only_where_automation_runs() {
        let h = Handlers::default();
        h.register(Arc::new(Named("projection", Scope::EveryReplica)));
        h.register(Arc::new(Named("bot host", Scope::AutomationOnly)));
        let names =
            |h: &Handlers| -> Vec<&str> { h.for_replica().iter().map(|x| x.name()).collect() };
        assert_eq!(names(&h), vec!["projection"]);
        h.set_automation(true);
        assert_eq!(names(&h), vec!["projection", "bot host"]);
        h.set_automation(false);
        assert_eq!(names(&h), vec!["projection"]);
    }
}
