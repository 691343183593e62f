//! The demo's accounts: a password and a security stamp each, in memory, or in Redis where
//! every instance of the redis example sees them. A real app keeps them in its database and
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
        }
        Ok(())
    }
}
