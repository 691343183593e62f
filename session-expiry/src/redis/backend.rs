//! [`Backend`]: what the Redis store and its registry share.

use std::sync::Arc;

use super::{connection::Connection, keys::KeySpace};
use crate::{events::Events, unix_ms::UnixMs, valid_from::ValidFrom, Clock};

/// What the store and its registry share: the connection, the key names, the clock.
pub(crate) struct Backend {
    pub(crate) connection: Connection,
    pub(crate) keys: KeySpace,
    pub(crate) clock: Arc<dyn Clock>,
    /// The session key of the middleware's state.
    pub(crate) state_key: Arc<str>,
    /// Where the store's events go (evictions, revocations): the log and the hooks.
    pub(crate) events: Events,
    /// The middleware's "valid from" instant, when the store was built for it.
    pub(crate) valid_from: Option<Arc<ValidFrom>>,
}

impl Backend {
    pub(crate) fn now_ms(&self) -> u64 {
        UnixMs::of(self.clock.now()).millis()
    }
}
