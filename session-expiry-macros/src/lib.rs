//! Macros of [session-expiry](https://docs.rs/session-expiry); use them through that crate
//! (`session_expiry::idle_timeout` and friends), which re-exports them.
//!
//! They only add calls to public runtime items (the guard extractors `IdleWithin`,
//! `AbsoluteWithin` and `Passive`), so the runtime crate stays the single source of truth.

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
/// attributes (`seconds`, `minutes`, `hours`, `days`); either limit may be left out (no limit
/// of that kind), and `#[expiry(unlimited)]` sets neither. An `#[expiry(..)]` on the enum is
/// the default of variants without one. Unit, tuple and struct variants all work.
///
/// ```
/// use session_expiry::{ExpiryPolicy, ToPolicy};
/// use std::time::Duration;
///
/// #[derive(ExpiryPolicy)]
/// enum Tier {
///     #[expiry(idle(minutes = 10), absolute(hours = 8))]
///     Admin,
///     #[expiry(idle(minutes = 30), absolute(days = 5))]
///     Member { since: u32 },
///     #[expiry(absolute(days = 30))]
///     RememberMe(String),
/// }
///
/// assert_eq!(Tier::Admin.to_policy().idle(), Some(Duration::from_secs(600)));
/// assert_eq!(Tier::RememberMe("alice".into()).to_policy().idle(), None);
/// ```
#[proc_macro_derive(ExpiryPolicy, attributes(expiry))]
pub fn derive_expiry_policy(input: TokenStream) -> TokenStream {
    derive::expand(input.into()).into()
}
