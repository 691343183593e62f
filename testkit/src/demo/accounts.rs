//! The demo's accounts, in memory: a password and a security stamp each. A real app keeps them
//! in its database and checks a password hash in constant time.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

/// Demo accounts as they start.
const USERS: &[(&str, &str)] = &[("alice", "password"), ("bob", "password")];

struct Account {
    password: String,
    /// Changed with the password when the user signs out their other devices.
    stamp: u64,
}

/// Every account, shared by the app's workers (register one [`Accounts`] as app data and
/// give the same one to [`Settings`](super::Settings)).
#[derive(Clone)]
pub struct Accounts(Arc<Mutex<HashMap<String, Account>>>);

impl Default for Accounts {
    fn default() -> Self {
        let accounts = USERS
            .iter()
            .map(|&(user, password)| {
                let account = Account {
                    password: password.to_owned(),
                    stamp: 0,
                };
                (user.to_owned(), account)
            })
            .collect();
        Self(Arc::new(Mutex::new(accounts)))
    }
}

impl Accounts {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Account>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Whether `password` is `user`'s.
    pub fn check(&self, user: &str, password: &str) -> bool {
        self.with(|accounts| accounts.get(user).is_some_and(|a| a.password == password))
    }

    /// `user`'s security stamp; `None` for no such user.
    pub fn stamp(&self, user: &str) -> Option<u64> {
        self.with(|accounts| accounts.get(user).map(|a| a.stamp))
    }

    /// Sets `user`'s password; with `sign_out_others`, changes their stamp too, which ends
    /// their other sessions.
    pub fn change_password(&self, user: &str, password: &str, sign_out_others: bool) {
        self.with(|accounts| {
            if let Some(account) = accounts.get_mut(user) {
                account.password = password.to_owned();
                if sign_out_others {
                    account.stamp += 1;
                }
            }
        });
    }
}
