//! Ended sessions told to every instance through PostgreSQL: a revocation, a credentials
//! change or a log-out runs `pg_notify` with a [`Notice`](crate::live::Notice) on one channel
//! per table; every instance `LISTEN`s on one connection of its own and ends the long-lived
//! connections of those sessions ([`SessionEnd`](crate::SessionEnd)). If that connection is
//! lost, connections look again at each refresh window, and the listener reconnects with a
//! growing pause.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use deadpool_postgres::Pool;
use sha2::{Digest as _, Sha256};
use tokio_postgres::AsyncMessage;

use crate::live::{Broadcast, Hub, Notice};

/// The longest pause between two attempts to listen again.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The channel of the table `schema.table`: a fixed-length name (PostgreSQL cuts identifiers
/// at 63 bytes, `pg_notify` does not).
pub(crate) fn channel(schema: &str, table: &str) -> String {
    let digest = Sha256::digest(format!("{schema}.{table}").as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("session_expiry_ended_{hex}")
}

/// Tells `hub` to notify through `pool` (each within `timeout`), to look sessions up in `table`
/// and write connections' activity there (at `clock`'s now), and listens with a connection of its own when the store was given a URL
/// (`config`).
pub(crate) fn wire(
    pool: &Pool,
    config: Option<tokio_postgres::Config>,
    channel: String,
    table: String,
    timeout: Duration,
    clock: &Arc<dyn crate::Clock>,
    hub: &Arc<Hub>,
) {
    hub.broadcast_with(broadcast(pool.clone(), channel.clone(), timeout));
    let keeper = super::live::keeper(pool.clone(), &table, timeout, Arc::clone(clock));
    hub.keep_activity_with(keeper);
    hub.probe_with(super::live::probe(pool.clone(), table, timeout));
    let Some(config) = config else {
        // The app's own pool: its connector (TLS) is not ours to open a listener with.
        tracing::info!(
            target: "session_expiry",
            "a store on the app's own pool notifies ended sessions but does not listen: \
             connections here see other instances' ends at their deadlines"
        );
        return;
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(listen(config, channel, Arc::downgrade(hub)));
}

fn broadcast(pool: Pool, channel: String, timeout: Duration) -> Broadcast {
    Arc::new(move |notice: String| {
        let (pool, channel) = (pool.clone(), channel.clone());
        Box::pin(async move {
            let notify = async {
                let client = pool.get().await.map_err(|error| error.to_string())?;
                client
                    .execute("SELECT pg_notify($1, $2)", &[&channel, &notice])
                    .await
                    .map_err(|error| error.to_string())
            };
            let lost = "could not notify an ended session: other instances' connections of it \
                        close at its next deadline";
            bounded(timeout, notify, lost).await;
        })
    })
}

/// Runs `work` within `timeout`; a failure (or the timeout) is logged as `lost`, since nothing
/// waits for it.
pub(super) async fn bounded(
    timeout: Duration,
    work: impl std::future::Future<Output = Result<u64, String>>,
    lost: &str,
) {
    let failed = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(_)) => return,
        Ok(Err(error)) => error,
        Err(_) => "timed out".to_owned(),
    };
    tracing::warn!(target: "session_expiry", error = %failed, "{lost}");
}

async fn listen(config: tokio_postgres::Config, channel: String, hub: Weak<Hub>) {
    let mut pause = Duration::from_millis(100);
    while hub.strong_count() > 0 {
        match listening(&config, &channel, &hub).await {
            Ok(()) => pause = Duration::from_millis(100),
            Err(error) => tracing::warn!(
                target: "session_expiry",
                %error,
                "could not listen for ended sessions: trying again"
            ),
        }
        if let Some(hub) = hub.upgrade() {
            hub.set_listening(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// One listening connection, until it is lost (`Ok`) or cannot be had (`Err`).
async fn listening(
    config: &tokio_postgres::Config,
    channel: &str,
    hub: &Weak<Hub>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (sender, mut notices) = tokio::sync::mpsc::unbounded_channel();
    // The connection is driven here; what it says goes through the channel.
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if sender.send(notification.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // `channel` is this module's own name: letters, digits and underscores.
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    if let Some(hub) = hub.upgrade() {
        hub.set_listening(true);
    }
    while let Some(payload) = notices.recv().await {
        let Some(hub) = hub.upgrade() else {
            break;
        };
        if let Some(notice) = Notice::decode(&payload) {
            hub.deliver(&notice);
        }
    }
    driver.abort();
    tracing::warn!(
        target: "session_expiry",
        "lost the connection listening for ended sessions: listening again"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::channel;

    #[test]
    fn a_channel_is_a_short_plain_identifier_per_table() {
        let name = channel("public", "session_expiry");
        assert!(name.len() < 63 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        assert_ne!(name, channel("auth", "session_expiry"));
    }
}
