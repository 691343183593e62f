//! Checks that need more than one key, or more than one attribute: they run once the whole
//! input has parsed, as thiserror's `valid.rs` does.

use super::ast::{Input, Limits};
use crate::errors::Errors;

impl Input<'_> {
    /// Reports every combination that cannot be expanded, all at once.
    pub(crate) fn validate(&self) -> Result<(), Errors> {
        let mut errors = Errors::default();
        if let Some(default) = &self.default {
            default.validate(&mut errors);
        }
        if self.variants.is_empty() {
            errors.push(syn::Error::new_spanned(
                &self.original.ident,
                "`ExpiryPolicy` needs at least one variant",
            ));
        }
        for variant in &self.variants {
            match (&variant.limits, &self.default) {
                (Some(limits), _) => limits.validate(&mut errors),
                (None, Some(_)) => {}
                (None, None) => errors.push(syn::Error::new_spanned(
                    variant.ident,
                    format!(
                        "variant `{}` has no `#[expiry(..)]`; give it one, e.g. \
                         `#[expiry(idle(minutes = 30))]`, or put a default `#[expiry(..)]` on \
                         the enum",
                        variant.ident
                    ),
                )),
            }
        }
        errors.finish()
    }
}

impl Limits {
    fn validate(&self, errors: &mut Errors) {
        if let Some(remember) = &self.remember {
            remember.validate(errors);
        }
        if let Some(unlimited) = &self.unlimited {
            if self.idle.is_some() || self.absolute.is_some() {
                errors.push(syn::Error::new_spanned(
                    unlimited,
                    "`unlimited` cannot be combined with `idle` or `absolute`; write \
                     `idle(unlimited)` or `absolute(unlimited)` to drop one limit",
                ));
            }
        }
    }
}
