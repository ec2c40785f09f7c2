//! Prometheus metrics (`GET /metrics`), with the official `prometheus-client` crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Client {
    pub workspace: String,
    pub token: String,
}

pub struct Metrics {
    registry: Registry,
    pub webhooks: Counter,
    pub events_stored: Counter,
    pub duplicates: Counter,
    pub published: Counter,
    pub rejections: Family<Reason, Counter>,
    pub clients: Gauge,
    /// Connections open now, each holding a place under the connection caps.
    pub connections: Gauge,
    pub client_lag: Family<Client, Gauge>,
    pub batch_size: Histogram,
    pub commit_seconds: Histogram,
    pub pruned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("relay");
        let m = Metrics {
            webhooks: Counter::default(),
            events_stored: Counter::default(),
            duplicates: Counter::default(),
            published: Counter::default(),
            rejections: Family::default(),
            clients: Gauge::default(),
            connections: Gauge::default(),
            client_lag: Family::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 14)),
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            pruned: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "webhooks_received",
            "Webhook POSTs received",
            m.webhooks.clone(),
        );
        registry.register(
            "events_stored",
            "Events appended to the log",
            m.events_stored.clone(),
        );
        registry.register(
            "duplicate_events",
            "Events whose idempotency key was already in the log",
            m.duplicates.clone(),
        );
        registry.register(
            "desktop_events_published",
            "Events published by desktops",
            m.published.clone(),
        );
        registry.register(
            "connections_open",
            "Connections open now (each holds a place under max_connections)",
            m.connections.clone(),
        );
        registry.register(
            "rejections",
            "Requests refused, by reason",
            m.rejections.clone(),
        );
        registry.register(
            "connected_clients",
            "Desktops connected to the stream",
            m.clients.clone(),
        );
        registry.register(
            "client_lag_events",
            "Events between each connected desktop's cursor and the head of its log",
            m.client_lag.clone(),
        );
        registry.register(
            "batch_events",
            "Events per committed batch",
            m.batch_size.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to commit a batch",
            m.commit_seconds.clone(),
        );
        registry.register(
            "events_pruned",
            "Events deleted by the retention policy",
            m.pruned.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn reject(&self, reason: &'static str) {
        self.rejections.get_or_create(&Reason { reason }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
