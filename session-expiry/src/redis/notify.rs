//! What one instance tells the others, on one subscription per store:
//! - credential changes: the instance that changed a user's credentials `PUBLISH`es the user on
//!   `<prefix>credentials-changed`; every instance drops the user's cached security stamp, so
//!   their other sessions end at their next request, within a second;
//! - ended sessions: a revocation, a credentials change or a log-out `PUBLISH`es a
//!   [`Notice`](crate::live::Notice) on `<prefix>sessions-ended`; every instance ends the
//!   long-lived connections of those sessions ([`SessionEnd`](crate::SessionEnd)).
//!
//! If the subscription is lost, the stamp check interval still bounds the first, connections
//! look again at each refresh window, and the subscriber reconnects with a growing pause.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use futures_util::StreamExt as _;

use super::{connection::Connection, keys::KeySpace};
use crate::{
    live::{Broadcast, Hub, Notice},
    stamp::{Publisher, Stamps},
};

/// The longest pause between two attempts to subscribe again.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// What other instances miss when a credentials change is not published.
const CREDENTIALS_LOST: &str =
    "a credentials change: other instances see it within the stamp check interval";
/// What other instances miss when an ended session is not published.
const ENDED_LOST: &str = "an ended session: other instances' connections of it close at its \
                          next deadline or refresh window";

/// The channel of a store under `prefix`.
pub(crate) fn channel(prefix: &str) -> String {
    format!("{prefix}credentials-changed")
}

/// The channel of ended sessions of a store under `prefix`.
pub(crate) fn ended_channel(prefix: &str) -> String {
    format!("{prefix}sessions-ended")
}

/// Tells the middleware's stamps and hub to publish through `connection`, and subscribes to
/// both channels on the Redis at `url` (any node of a cluster: plain `PUBLISH` reaches every
/// node).
pub(crate) fn wire(
    url: Option<String>,
    connection: &Connection,
    keys: &KeySpace,
    clock: &Arc<dyn crate::Clock>,
    stamps: Option<&Arc<Stamps>>,
    hub: &Arc<Hub>,
) {
    let credentials = channel(keys.prefix());
    let ended = ended_channel(keys.prefix());
    hub.probe_with(super::live::probe(connection.clone(), keys.clone()));
    hub.keep_activity_with(super::live::keeper(
        connection.clone(),
        keys.clone(),
        Arc::clone(clock),
    ));
    if let Some(stamps) = stamps {
        let publish = publisher(connection.clone(), credentials.clone(), CREDENTIALS_LOST);
        let publisher: Publisher = Arc::new(move |user: String| publish(user));
        let _set_once = stamps.publisher.set(publisher);
    }
    hub.broadcast_with(publisher(connection.clone(), ended.clone(), ENDED_LOST));
    if let Some(url) = url {
        subscribe(url, Channels { credentials, ended }, stamps, hub);
    }
}

/// The channels one subscription listens on.
struct Channels {
    credentials: String,
    ended: String,
}

/// Publishes each message on `channel` through the store's own connection (bounded by its
/// timeouts); a failure is logged with `lost`, what the other instances then miss.
fn publisher(connection: Connection, channel: String, lost: &'static str) -> Broadcast {
    Arc::new(move |message: String| {
        let (connection, channel) = (connection.clone(), channel.clone());
        Box::pin(async move {
            let mut publish = ::redis::cmd("PUBLISH");
            publish.arg(&channel).arg(&message);
            if let Err(error) = connection.query::<i64>(&publish).await {
                tracing::warn!(target: "session_expiry", %error, "could not publish: {lost}");
            }
        })
    })
}

/// Subscribes on the Redis at `url` for as long as `hub` lives (the middleware it belongs to),
/// forgetting the cached stamp of every user published on the credentials channel (with
/// `stamps`) and delivering every notice of the ended channel.
fn subscribe(url: String, channels: Channels, stamps: Option<&Arc<Stamps>>, hub: &Arc<Hub>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(
            target: "session_expiry",
            "no Tokio runtime to subscribe to credential changes on: other instances' changes \
             are seen within the stamp check interval"
        );
        return;
    };
    let stamps = stamps.map(Arc::downgrade);
    runtime.spawn(listen(url, channels, stamps, Arc::downgrade(hub)));
}

async fn listen(url: String, channels: Channels, stamps: Option<Weak<Stamps>>, hub: Weak<Hub>) {
    let mut pause = Duration::from_millis(100);
    let names: Vec<&str> = match stamps {
        Some(_) => vec![&channels.credentials, &channels.ended],
        None => vec![&channels.ended],
    };
    while hub.strong_count() > 0 {
        match subscription(&url, &names).await {
            Ok(mut pubsub) => {
                pause = Duration::from_millis(100);
                if let Some(hub) = hub.upgrade() {
                    hub.set_listening(true);
                }
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Ok(payload) = message.get_payload::<String>() else {
                        continue;
                    };
                    if message.get_channel_name() == channels.ended {
                        let Some(hub) = hub.upgrade() else {
                            return;
                        };
                        if let Some(notice) = Notice::decode(&payload) {
                            hub.deliver(&notice);
                        }
                    } else if let Some(stamps) = stamps.as_ref().and_then(Weak::upgrade) {
                        stamps.cache.forget(&payload);
                    }
                }
                // Every change published while this instance was away is covered by the
                // interval, every ended session by the connections' refresh windows; none is
                // waited for.
                if let Some(hub) = hub.upgrade() {
                    hub.set_listening(false);
                }
                tracing::warn!(
                    target: "session_expiry",
                    "lost the subscription to credential changes and ended sessions: \
                     subscribing again"
                );
            }
            Err(error) => tracing::warn!(
                target: "session_expiry",
                %error,
                "could not subscribe to credential changes: trying again"
            ),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

async fn subscription(url: &str, channels: &[&str]) -> ::redis::RedisResult<::redis::aio::PubSub> {
    let client = ::redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channels).await?;
    Ok(pubsub)
}
