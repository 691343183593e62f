//! Macros of [session-expiry](https://docs.rs/session-expiry); use them through that crate
//! (`session_expiry::idle_timeout` and friends), which re-exports them.
//!
//! They only add calls to public runtime items (the guard extractors `IdleWithin`,
//! `AbsoluteWithin`, `FreshAuth` and `Passive`, the `Policy` builder), so the runtime crate
//! stays the single source of truth.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod derive;
mod duration;
mod errors;
mod route;

use route::RouteAttr;

/// Ends the session at this handler if it has been idle this long, even when the global or
/// the user's policy allows longer: a route can only tighten.
///
/// Units `seconds`, `minutes`, `hours` and `days`, combinable. Works on `async fn` handlers,
/// above or below actix-web's `#[get]`/`#[post]`/`#[route]`, and with `web::resource().to(..)`.
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::idle_timeout;
///
/// #[get("/admin")]
/// #[idle_timeout(minutes = 5)]
/// async fn admin() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[proc_macro_attribute]
pub fn idle_timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(RouteAttr::IdleTimeout, args.into(), item.into()).into()
}

/// Ends the session at this handler if it was signed in this long ago or more, even when the
/// global or the user's policy allows longer.
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::absolute_timeout;
///
/// #[absolute_timeout(hours = 1)]
/// #[get("/reports")]
/// async fn reports() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[proc_macro_attribute]
pub fn absolute_timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(RouteAttr::AbsoluteTimeout, args.into(), item.into()).into()
}

/// Lets the request through only if the user proved who they are (signed in, or confirmed their
/// password through `Expiry::reauthenticated`) within this window; otherwise the session is
/// kept and the user is asked to confirm their password: `401`
/// `{"error":"reauthentication_required"}` for JSON clients, a `303` to the re-authentication
/// path with `next` for browsers. Same units and rules as `#[idle_timeout]`.
///
/// ```
/// use actix_web::{post, HttpResponse};
/// use session_expiry::fresh_auth;
///
/// #[post("/settings/password")]
/// #[fresh_auth(minutes = 10)]
/// async fn change_password() -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[proc_macro_attribute]
pub fn fresh_auth(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(RouteAttr::FreshAuth, args.into(), item.into()).into()
}

/// This handler's requests do not count as activity (status polls, notification checks).
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::passive;
///
/// #[passive]
/// #[get("/notifications")]
/// async fn notifications() -> HttpResponse {
///     HttpResponse::Ok().json(Vec::<String>::new())
/// }
/// ```
#[proc_macro_attribute]
pub fn passive(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(RouteAttr::Passive, args.into(), item.into()).into()
}

/// Implements `session_expiry::ToPolicy` for an enum of roles or tiers: each variant names its
/// policy, so `expiry.login_with(user, role)` applies it.
///
/// `#[expiry(idle(..), absolute(..))]` on a variant takes the same units as the route
/// attributes (`seconds`, `minutes`, `hours`, `days`). A limit left out is inherited from the
/// global policy; `idle(unlimited)` or `absolute(unlimited)` drops one explicitly, and
/// `#[expiry(unlimited)]` both. `max_sessions = 3` limits how many sessions the role may hold
/// at once (`max_sessions = unlimited` for none). `remember(..)`, with the same keys, is the
/// policy of a "keep me signed in" log-in (`Expiry::login_remembered`), inheriting what it
/// leaves out from the variant's own; a variant without it gets its own policy when the box is
/// ticked. An `#[expiry(..)]` on the enum is the default of variants without one. Unit, tuple
/// and struct variants all work.
///
/// ```
/// use session_expiry::{ExpiryPolicy, ToPolicy};
/// use std::time::Duration;
///
/// #[derive(ExpiryPolicy)]
/// enum Tier {
///     #[expiry(idle(minutes = 10), absolute(hours = 8), max_sessions = 3)]
///     Admin,
///     #[expiry(
///         idle(minutes = 30),
///         absolute(days = 5),
///         remember(idle(unlimited), absolute(days = 30)),
///     )]
///     Member { since: u32 },
///     #[expiry(idle(minutes = 5))] // the global absolute timeout still applies
///     Guest(String),
/// }
///
/// assert_eq!(Tier::Admin.to_policy().idle(), Some(Duration::from_secs(600)));
/// assert_eq!(Tier::Admin.to_policy().max_sessions(), Some(3));
/// // Remember-me stays within the admin's limits: the admin has no remember-me policy.
/// assert_eq!(Tier::Admin.policy_for(true), Tier::Admin.to_policy());
/// let member = Tier::Member { since: 2020 };
/// assert_eq!(member.policy_for(true).idle(), None);
/// assert_eq!(member.policy_for(true).absolute(), Some(Duration::from_secs(30 * 86_400)));
/// assert_eq!(Tier::Guest("x".into()).to_policy().absolute(), None); // unset: inherited
/// ```
#[proc_macro_derive(ExpiryPolicy, attributes(expiry))]
pub fn derive_expiry_policy(input: TokenStream) -> TokenStream {
    derive::derive(input.into()).into()
}
