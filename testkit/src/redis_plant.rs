//! Sessions of one user planted straight into Redis, laid out as the Redis store keeps them: for
//! the tests and the benchmark of a user with very many sessions (signing 100,000 in over HTTP
//! would take minutes). Shared by `tests/integration` and `examples/registry_bench.rs`.

use std::fmt::Write as _;

/// How many sessions go to Redis in one pipeline.
const BATCH: usize = 500;

/// The user agent planted sessions signed in with: a browser, so that listing them labels it.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The user whose index is `index` (the `<prefix>{<tag>}:i` key of a session the store saved),
/// as the store's keys name it.
pub struct PlantedUser {
    /// `<prefix>{<tag>}:`, the start of every key of the user.
    stem: String,
}

impl PlantedUser {
    /// The user of the index `index`.
    ///
    /// # Panics
    /// If `index` is not the name of an index (`…}:i`).
    pub fn of_index(index: &str) -> Self {
        let stem = index
            .strip_suffix('i')
            .filter(|stem| stem.ends_with("}:"))
            .unwrap_or_else(|| panic!("{index} is not a user's index"));
        Self {
            stem: stem.to_owned(),
        }
    }

    /// Plants sessions `from..from + count` of the user: each a live data key (signed in at
    /// `seen_ms`, Unix ms, that many ms earlier the higher its number, so the planted ones are
    /// the least recently active; deadline `deadline_ms`, which is also its TTL from
    /// `seen_ms`), a log-in record, and its place in the activity and expiry sets. The ids are
    /// made up: no cookie leads to these sessions.
    pub async fn plant(
        &self,
        connection: &mut impl redis::aio::ConnectionLike,
        from: usize,
        count: usize,
        seen_ms: u64,
        deadline_ms: u64,
    ) -> redis::RedisResult<()> {
        let (info, activity, expiries) = (
            format!("{}i", self.stem),
            format!("{}a", self.stem),
            format!("{}d", self.stem),
        );
        let ttl = deadline_ms.saturating_sub(seen_ms).max(1);
        let (mut pipe, mut pending) = (redis::pipe(), 0);
        for n in from..from + count {
            let id = format!("{:032x}", 0xfeed_0000_0000_u64 + n as u64);
            let seen = seen_ms.saturating_sub(1 + n as u64);
            let mut record = String::new();
            let _ = write!(
                record,
                r#"{{"l":{seen},"ua":"{USER_AGENT}","ip":"127.0.0.1","u":null,"p":null}}"#
            );
            let data = format!("{}s:{id}", self.stem);
            pipe.cmd("HSET")
                .arg(&data)
                .arg(&["v", "1", "e", ""])
                .arg("s")
                .arg(seen)
                .arg("d")
                .arg(deadline_ms)
                .arg(&["m", "{}"])
                .ignore();
            pipe.cmd("PEXPIRE").arg(&data).arg(ttl).ignore();
            pipe.cmd("HSET").arg(&info).arg(&id).arg(record).ignore();
            pipe.cmd("ZADD").arg(&activity).arg(seen).arg(&id).ignore();
            pipe.cmd("ZADD")
                .arg(&expiries)
                .arg(deadline_ms)
                .arg(&id)
                .ignore();
            pending += 1;
            if pending == BATCH {
                pipe.query_async::<()>(connection).await?;
                (pipe, pending) = (redis::pipe(), 0);
            }
        }
        if pending > 0 {
            pipe.query_async::<()>(connection).await?;
        }
        Ok(())
    }
}
