//! The parsed input of `#[derive(ExpiryPolicy)]`: the enum, its variants and the limits each
//! writes, before any cross-key check (`valid.rs`) or code (`expand.rs`).

use proc_macro2::Ident;
use quote::quote;
use syn::{Data, DeriveInput};

use super::attr;
use crate::errors::Errors;

/// The enum the derive is on.
pub(crate) struct Input<'a> {
    pub(crate) original: &'a DeriveInput,
    /// The enum's own `#[expiry(..)]`: the limits of variants without one.
    pub(crate) default: Option<Limits>,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// One variant and its own `#[expiry(..)]`, if it has one.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) limits: Option<Limits>,
}

/// A timeout as written: whole seconds, or explicitly none.
#[derive(Clone, Copy)]
pub(crate) enum Timeout {
    Secs(u64),
    Unlimited,
}

/// `max_sessions` as written.
#[derive(Clone, Copy, Default)]
pub(crate) enum SessionLimit {
    /// Not written: the global policy's limit applies.
    #[default]
    Inherited,
    /// `max_sessions = n`.
    AtMost(u32),
    /// `max_sessions = unlimited`: explicitly no limit.
    Unlimited,
}

/// A parsed `#[expiry(..)]` (or its `remember(..)`): what it sets, `None` where it inherits.
#[derive(Default)]
pub(crate) struct Limits {
    pub(crate) idle: Option<Timeout>,
    pub(crate) absolute: Option<Timeout>,
    /// The `unlimited` key, where written: no timeout of either kind.
    pub(crate) unlimited: Option<Ident>,
    pub(crate) max_sessions: SessionLimit,
    pub(crate) remember: Option<Box<Limits>>,
}

impl Limits {
    /// The idle timeout these limits set, `unlimited` included.
    pub(crate) fn idle(&self) -> Option<Timeout> {
        self.unlimited
            .as_ref()
            .map_or(self.idle, |_| Some(Timeout::Unlimited))
    }

    /// The absolute timeout these limits set, `unlimited` included.
    pub(crate) fn absolute(&self) -> Option<Timeout> {
        self.unlimited
            .as_ref()
            .map_or(self.absolute, |_| Some(Timeout::Unlimited))
    }
}

impl<'a> Input<'a> {
    /// Reads the enum and every `#[expiry]` on it, reporting all the mistakes at once.
    pub(crate) fn from_syn(original: &'a DeriveInput) -> Result<Self, Errors> {
        let mut errors = Errors::default();
        let ident = &original.ident;
        let data = match &original.data {
            Data::Enum(data) => data,
            Data::Struct(syn::DataStruct { struct_token, .. }) => {
                errors.push(syn::Error::new_spanned(
                    quote!(#struct_token #ident),
                    "`ExpiryPolicy` can only be derived for an enum of roles or tiers; for a \
                     struct, implement `session_expiry::ToPolicy` by hand",
                ));
                return Err(errors);
            }
            Data::Union(syn::DataUnion { union_token, .. }) => {
                errors.push(syn::Error::new_spanned(
                    quote!(#union_token #ident),
                    "`ExpiryPolicy` can only be derived for an enum of roles or tiers",
                ));
                return Err(errors);
            }
        };
        let default = attr::expiry(&original.attrs, &mut errors);
        let variants = data
            .variants
            .iter()
            .map(|variant| Variant {
                ident: &variant.ident,
                limits: attr::expiry(&variant.attrs, &mut errors),
            })
            .collect();
        errors.finish()?;
        Ok(Self {
            original,
            default,
            variants,
        })
    }

    /// The limits `variant` gets: its own, else the enum's default.
    pub(crate) fn limits_of<'s>(&'s self, variant: &'s Variant<'_>) -> Option<&'s Limits> {
        variant.limits.as_ref().or(self.default.as_ref())
    }
}
