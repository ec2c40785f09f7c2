//! What runs in the background of an open workspace, whatever opened it (the desktop app, a test,
//! later the headless runner): the handlers that apply received events.

use std::sync::Arc;

use crate::sync::handlers::Handler;

/// The handlers every replica registers, in the order they apply an event.
pub fn default_handlers() -> Vec<Arc<dyn Handler>> {
    vec![
        crate::chat::projection::handler(),
        crate::templates::status_handler(),
    ]
}
