//! The session table: created and upgraded by the store ([`migrate`]), and every statement the
//! store runs on it, with its name filled in once.
//!
//! | column | holds | changes |
//! | --- | --- | --- |
//! | `id` | the first 16 bytes of SHA-256 of the session key (never the key: a leaked row is no usable cookie); [`SessionId`](crate::registry::SessionId) in hexadecimal | never |
//! | `user_tag` | 16 bytes of (HMAC-)SHA-256 of the user id, `NULL` for a session without a user | never (but when a session is signed in without renewing its key) |
//! | `login_ms` | the log-in instant, Unix ms | never |
//! | `seen_ms` | last seen, Unix ms | at a refresh |
//! | `expires_ms` | the session's earliest deadline (or actix-session's TTL without one), Unix ms | at a refresh |
//! | `ended` | `revoked` or `evicted` once the store ended the session, else `NULL` | once |
//! | `login` | the [log-in record](crate::store) (JSON: user agent, IP, user, policy) | never |
//! | `state` | the expiry state, as the middleware stored it | at a refresh |
//! | `entries` | every other session entry, as one JSON object | when the app changes them |
//!
//! Beside it, `<table>_schema` records the versions applied and `<table>_settings` holds one
//! row: the run-time "valid from" instant (`SessionRegistry::set_sessions_valid_from`).
//!
//! Indexed: the primary key `id`, and `(user_tag, login_ms)` for the user's sessions. Both
//! hold only columns a refresh never changes, so a refresh is a HOT update (the table's fill
//! factor, 80, leaves room on each page for it). A row outlives its session's deadline by a
//! day ([`GRACE_MS`]) so that the session's next request still learns why it ended; the reaper
//! deletes it after that.

use std::fmt::Write as _;

use tokio_postgres::Client;

use super::PostgresStoreError;

/// How long a row outlives its session's deadline: a day, as the Redis store's log-in records.
pub(crate) const GRACE_MS: i64 = 24 * 3600 * 1000;

/// The newest schema version this release creates.
pub(crate) const SCHEMA_VERSION: i32 = 2;

/// The upgrade to each version, in order; `{t}` is the qualified table, `{i}` the bare name,
/// `{s}` the qualified settings table (one row: the run-time "valid from" instant, Unix ms, 0
/// for none).
const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE {t} (
    id bytea PRIMARY KEY,
    user_tag bytea,
    login_ms bigint,
    seen_ms bigint NOT NULL,
    expires_ms bigint NOT NULL,
    ended text,
    login text,
    state text,
    entries text NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX {i}_user ON {t} (user_tag, login_ms) WHERE user_tag IS NOT NULL;",
    "CREATE TABLE {s} (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    valid_from_ms bigint NOT NULL
);
INSERT INTO {s} (valid_from_ms) VALUES (0);",
];

/// Whether `name` is a plain lowercase identifier: quoted or not, it means the same. Not
/// `pg_…`, which PostgreSQL keeps for its own schemas.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && name.len() <= 48
        && !name.starts_with("pg_")
}

/// Every statement the store runs, with the table's name in it.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) schema: String,
    pub(crate) table: String,
    /// The advisory lock class of this table (its log-ins, its migrations, its reaper).
    pub(crate) lock_class: i32,
    pub(crate) load: String,
    pub(crate) insert: String,
    pub(crate) update: String,
    pub(crate) update_ttl: String,
    pub(crate) delete: String,
    pub(crate) count: String,
    pub(crate) evict: String,
    pub(crate) list: String,
    pub(crate) revoke_one: String,
    pub(crate) revoke_batch: String,
    pub(crate) reap: String,
    pub(crate) pages: String,
    pub(crate) raise_valid_from: String,
    pub(crate) read_valid_from: String,
}

/// Live: not ended and before its deadline, at `$now`.
const LIVE: &str = "ended IS NULL AND expires_ms > ";

impl Sql {
    pub(crate) fn new(schema: &str, table: &str) -> Self {
        let t = format!("\"{schema}\".\"{table}\"");
        let settings = format!("\"{schema}\".\"{table}_settings\"");
        let digest = <sha2::Sha256 as sha2::Digest>::digest(t.as_bytes());
        let lock_class = i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        Self {
            schema: schema.to_owned(),
            table: table.to_owned(),
            lock_class,
            // Expiry in the query: a row past its deadline gives back no data, only what
            // names the reason it ended (its expiry state) and, when the app keeps some keys
            // past a session's end ($3), the entries the store picks them from.
            load: format!(
                "SELECT ended, login, expires_ms > $2, state, \
                 CASE WHEN ended IS NULL AND (expires_ms > $2 OR $3) THEN entries END \
                 FROM {t} WHERE id = $1 AND expires_ms > $2 - {GRACE_MS}"
            ),
            insert: format!(
                "INSERT INTO {t} (id, user_tag, login_ms, seen_ms, expires_ms, login, state, \
                 entries) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING"
            ),
            // Of two concurrent refreshes the later last-seen wins; a session ended meanwhile
            // is not brought back.
            update: format!(
                "UPDATE {t} SET seen_ms = $3, expires_ms = $4, state = $5, entries = $6, \
                 login = CASE WHEN user_tag IS DISTINCT FROM $7 THEN $8 ELSE login END, \
                 user_tag = $7, login_ms = $9 \
                 WHERE id = $1 AND {LIVE}$2 AND seen_ms <= $3"
            ),
            update_ttl: format!(
                "UPDATE {t} SET expires_ms = $3 WHERE id = $1 AND state IS NULL AND {LIVE}$2"
            ),
            delete: format!("DELETE FROM {t} WHERE id = $1 AND ended IS NULL"),
            count: format!("SELECT count(*) FROM {t} WHERE user_tag = $1 AND {LIVE}$2"),
            evict: format!(
                "UPDATE {t} SET ended = 'evicted' WHERE id IN (SELECT id FROM {t} \
                 WHERE user_tag = $1 AND {LIVE}$2 ORDER BY seen_ms, id LIMIT $3 FOR UPDATE)"
            ),
            list: format!(
                "SELECT id, login_ms, seen_ms, expires_ms, login FROM {t} \
                 WHERE user_tag = $1 AND {LIVE}$2 \
                 AND ($3::bigint IS NULL OR (seen_ms, id) < ($3, $4)) \
                 ORDER BY seen_ms DESC, id DESC LIMIT $5"
            ),
            revoke_one: format!(
                "UPDATE {t} SET ended = 'revoked' WHERE id = $1 AND user_tag = $2 AND {LIVE}$3"
            ),
            revoke_batch: format!(
                "UPDATE {t} SET ended = 'revoked' WHERE id IN (SELECT id FROM {t} \
                 WHERE user_tag = $1 AND {LIVE}$2 AND id IS DISTINCT FROM $3 \
                 LIMIT $4 FOR UPDATE)"
            ),
            // One range of heap pages at a time (a TID range scan): no index on a column a
            // refresh changes, and no statement longer than its range.
            reap: format!(
                "DELETE FROM {t} WHERE ctid >= format('(%s,0)', $1::bigint)::tid \
                 AND ctid < format('(%s,0)', $2::bigint)::tid AND expires_ms <= $3::bigint - {GRACE_MS} \
                 RETURNING ended, login_ms, expires_ms, login"
            ),
            pages: format!(
                "SELECT pg_relation_size('{}') / current_setting('block_size')::bigint",
                t.replace('\'', "''")
            ),
            raise_valid_from: format!(
                "UPDATE {settings} SET valid_from_ms = greatest(valid_from_ms, $1) \
                 RETURNING valid_from_ms"
            ),
            read_valid_from: format!("SELECT valid_from_ms FROM {settings}"),
        }
    }

    pub(crate) fn qualified(&self) -> String {
        format!("\"{}\".\"{}\"", self.schema, self.table)
    }

    fn settings(&self) -> String {
        format!("\"{}\".\"{}_settings\"", self.schema, self.table)
    }
}

/// Creates the table, or upgrades it to [`SCHEMA_VERSION`]: in one transaction, under the
/// table's advisory lock, so that any number of instances starting at once are safe and each
/// step runs once. Idempotent.
pub(crate) async fn migrate(client: &mut Client, sql: &Sql) -> Result<i32, MigrateError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&sql.lock_class])
        .await?;
    let versions = format!("\"{}\".\"{}_schema\"", sql.schema, sql.table);
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{}\"; \
         CREATE TABLE IF NOT EXISTS {versions} (version integer NOT NULL);",
        sql.schema
    ))
    .await?;
    let found: Option<i32> = tx
        .query_one(&format!("SELECT max(version) FROM {versions}"), &[])
        .await?
        .get(0);
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew(found));
    }
    let (table, settings) = (sql.qualified(), sql.settings());
    for (step, migration) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(step).unwrap_or(i32::MAX) + 1;
        if version <= found {
            continue;
        }
        let mut text = String::new();
        let _infallible = write!(
            text,
            "{}",
            migration
                .replace("{t}", &table)
                .replace("{i}", &sql.table)
                .replace("{s}", &settings)
        );
        tx.batch_execute(&text).await?;
        tx.execute(
            &format!("INSERT INTO {versions} (version) VALUES ($1)"),
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SCHEMA_VERSION)
}

/// Why a migration failed.
#[derive(Debug)]
pub(crate) enum MigrateError {
    Postgres(tokio_postgres::Error),
    TooNew(i32),
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

impl MigrateError {
    pub(crate) fn into_store_error(self, backend: &super::Backend) -> PostgresStoreError {
        match self {
            Self::Postgres(error) => backend.error(error),
            Self::TooNew(found) => PostgresStoreError::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_are_plain_lowercase_identifiers_outside_postgresqls_own() {
        for good in ["public", "session_expiry", "_auth2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "",
            "Auth",
            "2fa",
            "no spaces",
            "a\"b",
            "pg_sessions",
            &"x".repeat(49),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
