//! `#[derive(ExpiryPolicy)]`: each variant of a role or tier enum names its policy.
//!
//! ```text
//! #[expiry(idle(minutes = 10), absolute(hours = 8))]   on a variant (or on the enum, as the
//! #[expiry(absolute(days = 30))]                        default of variants without one)
//! #[expiry(unlimited)]                                  no limit of either kind
//! ```

use proc_macro2::TokenStream;
use quote::quote;
use syn::{
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    Attribute, Data, DeriveInput, Ident, Token,
};

use crate::{
    duration::{total_seconds, Terms, Usage},
    errors::Errors,
};

/// One entry of `#[expiry(..)]`: `idle(..)`, `absolute(..)` or `unlimited`.
struct Entry {
    key: Ident,
    args: Option<TokenStream>,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        use syn::ext::IdentExt as _;
        let key = Ident::parse_any(input)?;
        let args = if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            Some(content.parse()?)
        } else {
            None
        };
        Ok(Self { key, args })
    }
}

/// A parsed `#[expiry(..)]`: whole seconds of each limit.
#[derive(Clone, Copy, Default)]
struct Limits {
    idle: Option<u64>,
    absolute: Option<u64>,
}

/// Reads the single `#[expiry]` of `attrs`, if any; `None` inside `Some` means it was wrong
/// (and the error is reported).
fn expiry_attr(attrs: &[Attribute], errors: &mut Errors) -> Option<Option<Limits>> {
    let mut found = attrs.iter().filter(|a| a.path().is_ident("expiry"));
    let attr = found.next()?;
    for extra in found {
        errors.push(syn::Error::new_spanned(
            extra,
            "`#[expiry]` set multiple times; keep one",
        ));
    }
    Some(limits(attr, errors))
}

fn limits(attr: &Attribute, errors: &mut Errors) -> Option<Limits> {
    const EXPECTED: &str = "expected `idle(..)`, `absolute(..)` or `unlimited`, e.g. \
                            `#[expiry(idle(minutes = 30), absolute(days = 5))]`";
    let entries = match &attr.meta {
        syn::Meta::List(list) => {
            match list.parse_args_with(Punctuated::<Entry, Token![,]>::parse_terminated) {
                Ok(entries) => entries,
                Err(error) => {
                    errors.push(syn::Error::new(
                        error.span(),
                        format!("{error}; {EXPECTED}"),
                    ));
                    return None;
                }
            }
        }
        _ => Punctuated::new(),
    };
    if entries.is_empty() {
        errors.push(syn::Error::new_spanned(
            attr,
            format!("empty `#[expiry]`; {EXPECTED}"),
        ));
        return None;
    }
    let before = errors.len();
    let mut limits = Limits::default();
    let mut unlimited = None;
    for entry in &entries {
        let key = entry.key.to_string();
        let slot = match key.as_str() {
            "idle" => &mut limits.idle,
            "absolute" => &mut limits.absolute,
            "unlimited" => {
                if let Some(args) = &entry.args {
                    errors.push(syn::Error::new_spanned(
                        args,
                        "`unlimited` takes no arguments",
                    ));
                }
                unlimited = Some(&entry.key);
                continue;
            }
            _ => {
                let hint = match key.as_str() {
                    "idle_timeout" | "inactivity" | "idle_for" => " (did you mean `idle`?)",
                    "absolute_timeout" | "max_age" | "lifetime" | "max" => {
                        " (did you mean `absolute`?)"
                    }
                    "seconds" | "minutes" | "hours" | "days" => {
                        " (a duration goes inside `idle(..)` or `absolute(..)`)"
                    }
                    _ => "",
                };
                errors.push(syn::Error::new_spanned(
                    &entry.key,
                    format!("unknown key `{key}`{hint}; {EXPECTED}"),
                ));
                continue;
            }
        };
        if slot.is_some() {
            errors.push(syn::Error::new_spanned(
                &entry.key,
                format!("`{key}` set multiple times; keep one"),
            ));
            continue;
        }
        let span = entry.key.span();
        let terms = match entry.args.clone().map(syn::parse2::<Terms>) {
            None => {
                errors.push(syn::Error::new_spanned(
                    &entry.key,
                    format!("`{key}` needs a duration, e.g. `{key}(minutes = 30)`"),
                ));
                continue;
            }
            Some(Err(error)) => {
                errors.push(error);
                continue;
            }
            Some(Ok(terms)) => terms,
        };
        let usage = Usage {
            what: &format!("`{key}(..)`"),
            example: &format!("`{key}(minutes = 30)`"),
        };
        *slot = total_seconds(&terms, usage, span, errors);
    }
    if let Some(unlimited) = unlimited {
        if limits.idle.is_some() || limits.absolute.is_some() {
            errors.push(syn::Error::new_spanned(
                unlimited,
                "`unlimited` cannot be combined with `idle` or `absolute`",
            ));
        }
    }
    (errors.len() == before).then_some(limits)
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let ident = &input.ident;
    let arms = match &input.data {
        Data::Enum(data) => {
            let default = expiry_attr(&input.attrs, &mut errors);
            let mut arms = Vec::new();
            if data.variants.is_empty() {
                errors.push(syn::Error::new_spanned(
                    ident,
                    "`ExpiryPolicy` needs at least one variant",
                ));
            }
            for variant in &data.variants {
                let limits = match expiry_attr(&variant.attrs, &mut errors) {
                    Some(limits) => limits,
                    None => match default {
                        Some(default) => default,
                        None => {
                            errors.push(syn::Error::new_spanned(
                                &variant.ident,
                                format!(
                                    "variant `{}` has no `#[expiry(..)]`; give it one, e.g. \
                                     `#[expiry(idle(minutes = 30))]`, or put a default \
                                     `#[expiry(..)]` on the enum",
                                    variant.ident
                                ),
                            ));
                            None
                        }
                    },
                };
                let Some(Limits { idle, absolute }) = limits else {
                    continue;
                };
                let (idle, absolute) = (option(idle), option(absolute));
                let name = &variant.ident;
                arms.push(quote! {
                    Self::#name { .. } => ::session_expiry::Policy::__from_secs(#idle, #absolute),
                });
            }
            arms
        }
        Data::Struct(syn::DataStruct { struct_token, .. }) => {
            errors.push(syn::Error::new_spanned(
                quote!(#struct_token #ident),
                "`ExpiryPolicy` can only be derived for an enum of roles or tiers; for a struct, \
                 implement `session_expiry::ToPolicy` by hand",
            ));
            Vec::new()
        }
        Data::Union(syn::DataUnion { union_token, .. }) => {
            errors.push(syn::Error::new_spanned(
                quote!(#union_token #ident),
                "`ExpiryPolicy` can only be derived for an enum of roles or tiers",
            ));
            Vec::new()
        }
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // On error, a stub impl keeps uses of the trait from failing too (one mistake, one error).
    let body = if errors.is_empty() {
        quote!(match self { #(#arms)* })
    } else {
        quote!(::core::unreachable!(
            "never runs: the derive reported a compile error"
        ))
    };
    let errors = errors.to_compile_errors();
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::session_expiry::ToPolicy for #ident #ty_generics #where_clause {
                fn to_policy(&self) -> ::session_expiry::Policy {
                    #body
                }
            }
        };
    }
}

fn option(secs: Option<u64>) -> TokenStream {
    match secs {
        Some(secs) => quote!(::core::option::Option::Some(#secs)),
        None => quote!(::core::option::Option::None),
    }
}
