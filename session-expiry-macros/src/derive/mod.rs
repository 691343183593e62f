//! `#[derive(ExpiryPolicy)]`: each variant of a role or tier enum names its policy.
//!
//! ```text
//! #[expiry(idle(minutes = 10), absolute(hours = 8))]   on a variant (or on the enum, as the
//! #[expiry(absolute(days = 30))]                        default of variants without one);
//!                                                       what is left out is inherited
//! #[expiry(idle(unlimited), absolute(days = 30))]      explicitly no idle limit
//! #[expiry(unlimited)]                                  no timeout of either kind
//! #[expiry(max_sessions = 3)]                           at most 3 sessions at once
//! #[expiry(idle(minutes = 30), remember(idle(unlimited), absolute(days = 30)))]
//!                                                       the policy of a remembered log-in,
//!                                                       inheriting from the variant's own
//! ```
//!
//! Parse (`ast.rs`, `attr.rs`), then validate (`valid.rs`), then expand (`expand.rs`), as
//! thiserror's `impl/src/` does.

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use self::ast::Input;
use crate::errors::Errors;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    try_expand(&input).unwrap_or_else(|errors| expand::stub_impl(&input, &errors))
}

fn try_expand(input: &DeriveInput) -> Result<TokenStream, Errors> {
    let input = Input::from_syn(input)?;
    input.validate()?;
    Ok(expand::to_policy_impl(&input))
}
