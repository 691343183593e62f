//! Credential changes told to every instance: the instance that changed a user's credentials
//! `PUBLISH`es the user on one channel; every instance subscribes and drops the user's cached
//! security stamp, so their other sessions end at their next request, within a second. If the
//! subscription is lost, the stamp check interval still bounds it, and the subscriber
//! reconnects with a growing pause.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use futures_util::StreamExt as _;

use super::connection::Connection;
use crate::stamp::{Publisher, Stamps};

/// The longest pause between two attempts to subscribe again.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The channel of a store under `prefix`.
pub(crate) fn channel(prefix: &str) -> String {
    format!("{prefix}credentials-changed")
}

/// Publishes on `channel` through the store's own connection (bounded by its timeouts).
pub(crate) fn publisher(connection: Connection, channel: String) -> Publisher {
    Arc::new(move |user: String| {
        let (connection, channel) = (connection.clone(), channel.clone());
        Box::pin(async move {
            let mut publish = ::redis::cmd("PUBLISH");
            publish.arg(&channel).arg(&user);
            if let Err(error) = connection.query::<i64>(&publish).await {
                // The other instances still see the change within the check interval.
                tracing::warn!(
                    target: "session_expiry",
                    %error,
                    "could not publish a credentials change: other instances see it within the \
                     stamp check interval"
                );
            }
        })
    })
}

/// Subscribes to `channel` on the Redis at `url` for as long as `stamps` lives (the middleware
/// it belongs to), forgetting the cached stamp of every user published there.
pub(crate) fn subscribe(url: String, channel: String, stamps: &Arc<Stamps>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(
            target: "session_expiry",
            "no Tokio runtime to subscribe to credential changes on: other instances' changes \
             are seen within the stamp check interval"
        );
        return;
    };
    runtime.spawn(listen(url, channel, Arc::downgrade(stamps)));
}

async fn listen(url: String, channel: String, stamps: Weak<Stamps>) {
    let mut pause = Duration::from_millis(100);
    while stamps.strong_count() > 0 {
        match subscription(&url, &channel).await {
            Ok(mut pubsub) => {
                pause = Duration::from_millis(100);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    let Some(stamps) = stamps.upgrade() else {
                        return;
                    };
                    if let Ok(user) = message.get_payload::<String>() {
                        stamps.cache.forget(&user);
                    }
                }
                // Every change published while this instance was away is covered by the
                // interval; none is waited for.
                tracing::warn!(
                    target: "session_expiry",
                    "lost the subscription to credential changes: subscribing again"
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

async fn subscription(url: &str, channel: &str) -> ::redis::RedisResult<::redis::aio::PubSub> {
    let client = ::redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}
