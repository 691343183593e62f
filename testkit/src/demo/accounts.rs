//! The demo's accounts: a password and a security stamp each, in memory, or in Redis or
//! PostgreSQL where every instance of the redis or postgres example sees them. A real app keeps them in its database and
//! checks a password hash in constant time.

use std::{
    collections::HashMap,
    io,
    sync::{Arc, Mutex, PoisonError},
};

use redis::AsyncCommands as _;

/// Demo accounts as they start.
const USERS: &[(&str, &str)] = &[("alice", "password"), ("bob", "password")];

#[derive(Clone)]
struct Account {
    password: String,
    /// Changed with the password when the user signs out their other devices.
    stamp: u64,
}

fn starting(user: &str) -> Option<Account> {
    USERS
        .iter()
        .find(|&&(name, _)| name == user)
        .map(|&(_, password)| Account {
            password: password.to_owned(),
            stamp: 0,
        })
}

#[derive(Clone)]
enum Storage {
    Memory(Arc<Mutex<HashMap<String, Account>>>),
    /// One hash per account under the prefix; an account never changed is read as it starts.
    Redis(redis::aio::MultiplexedConnection, String),
    /// One row per account changed, in the table named; the others are read as they start.
    Postgres(deadpool_postgres::Pool, String),
}

/// Every account, shared by the app's workers (register one [`Accounts`] as app data and
/// give the same one to [`Settings`](super::Settings)).
#[derive(Clone)]
pub struct Accounts(Storage);

impl Default for Accounts {
    fn default() -> Self {
        Self(Storage::Memory(Arc::default()))
    }
}

fn unreachable(error: redis::RedisError) -> io::Error {
    io::Error::other(format!("the accounts in Redis: {error}"))
}

fn unusable(error: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("the accounts in PostgreSQL: {error}"))
}

impl Accounts {
    /// Accounts in the Redis at `url`, under `prefix`: what every instance sees.
    pub async fn on_redis(url: &str, prefix: &str) -> io::Result<Self> {
        let client = redis::Client::open(url).map_err(unreachable)?;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(unreachable)?;
        Ok(Self(Storage::Redis(
            connection,
            format!("{prefix}demo-account:"),
        )))
    }

    /// Accounts in the PostgreSQL database at `url`, in the table `demo_accounts` of `schema`
    /// (a plain lowercase name), both created if missing (under an advisory lock, so that
    /// instances starting at once are safe): what every instance sees.
    pub async fn on_postgres(url: &str, schema: &str) -> io::Result<Self> {
        let plain = schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("schema {schema:?}: a plain lowercase name, such as `sessions`"),
            ));
        }
        let config: tokio_postgres::Config = url.parse().map_err(unusable)?;
        let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(4)
            .build()
            .map_err(unusable)?;
        let table = format!("\"{schema}\".demo_accounts");
        let client = pool.get().await.map_err(unusable)?;
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(hashtext('{schema}.demo_accounts')); \
                 CREATE SCHEMA IF NOT EXISTS \"{schema}\"; \
                 CREATE TABLE IF NOT EXISTS {table} \
                 (name text PRIMARY KEY, password text NOT NULL, stamp bigint NOT NULL); COMMIT"
            ))
            .await
            .map_err(unusable)?;
        Ok(Self(Storage::Postgres(pool, table)))
    }

    async fn get(&self, user: &str) -> io::Result<Option<Account>> {
        match &self.0 {
            Storage::Memory(accounts) => {
                let accounts = accounts.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(accounts.get(user).cloned().or_else(|| starting(user)))
            }
            Storage::Redis(connection, prefix) => {
                let fields: HashMap<String, String> = connection
                    .clone()
                    .hgetall(format!("{prefix}{user}"))
                    .await
                    .map_err(unreachable)?;
                Ok(match (fields.get("password"), fields.get("stamp")) {
                    (Some(password), Some(stamp)) => Some(Account {
                        password: password.clone(),
                        stamp: stamp.parse().unwrap_or_default(),
                    }),
                    _ => starting(user),
                })
            }
            Storage::Postgres(pool, table) => {
                let client = pool.get().await.map_err(unusable)?;
                let row = client
                    .query_opt(
                        &format!("SELECT password, stamp FROM {table} WHERE name = $1"),
                        &[&user],
                    )
                    .await
                    .map_err(unusable)?;
                Ok(match row {
                    Some(row) => Some(Account {
                        password: row.get(0),
                        stamp: u64::try_from(row.get::<_, i64>(1)).unwrap_or_default(),
                    }),
                    None => starting(user),
                })
            }
        }
    }

    /// Whether `password` is `user`'s.
    pub async fn check(&self, user: &str, password: &str) -> io::Result<bool> {
        Ok(self
            .get(user)
            .await?
            .is_some_and(|account| account.password == password))
    }

    /// `user`'s security stamp; `None` for no such user.
    pub async fn stamp(&self, user: &str) -> io::Result<Option<u64>> {
        Ok(self.get(user).await?.map(|account| account.stamp))
    }

    /// Sets `user`'s password; with `sign_out_others`, changes their stamp too, which ends
    /// their other sessions.
    pub async fn change_password(
        &self,
        user: &str,
        password: &str,
        sign_out_others: bool,
    ) -> io::Result<()> {
        let Some(mut account) = self.get(user).await? else {
            return Ok(());
        };
        account.password = password.to_owned();
        if sign_out_others {
            account.stamp += 1;
        }
        match &self.0 {
            Storage::Memory(accounts) => {
                let mut accounts = accounts.lock().unwrap_or_else(PoisonError::into_inner);
                accounts.insert(user.to_owned(), account);
            }
            Storage::Redis(connection, prefix) => {
                let fields = [
                    ("password", account.password),
                    ("stamp", account.stamp.to_string()),
                ];
                let () = connection
                    .clone()
                    .hset_multiple(format!("{prefix}{user}"), &fields)
                    .await
                    .map_err(unreachable)?;
            }
            Storage::Postgres(pool, table) => {
                let client = pool.get().await.map_err(unusable)?;
                let stamp = i64::try_from(account.stamp).unwrap_or(i64::MAX);
                client
                    .execute(
                        &format!(
                            "INSERT INTO {table} (name, password, stamp) VALUES ($1, $2, $3) \
                             ON CONFLICT (name) DO UPDATE SET password = $2, stamp = $3"
                        ),
                        &[&user, &account.password, &stamp],
                    )
                    .await
                    .map_err(unusable)?;
            }
        }
        Ok(())
    }
}
