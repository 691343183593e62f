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

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    Attribute, Data, DeriveInput, Expr, ExprLit, ExprPath, Ident, Lit, Token,
};

use crate::{
    duration::{total_seconds, Terms, Usage, ENDS_EVERY_SESSION},
    errors::Errors,
};

/// One entry of `#[expiry(..)]`: `idle(..)`, `absolute(..)`, `unlimited`, `max_sessions = n`
/// or `remember(..)`.
struct Entry {
    key: Ident,
    args: Option<TokenStream>,
    value: Option<Expr>,
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
        let value = if args.is_none() && input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { key, args, value })
    }
}

/// A timeout as written: whole seconds, or explicitly none.
#[derive(Clone, Copy)]
enum Timeout {
    Secs(u64),
    Unlimited,
}

/// A parsed `#[expiry(..)]` (or its `remember(..)`): what it sets, `None` where it inherits.
#[derive(Clone, Default)]
struct Limits {
    idle: Option<Timeout>,
    absolute: Option<Timeout>,
    /// `Some(None)`: explicitly no limit.
    max_sessions: Option<Option<u32>>,
    remember: Option<Box<Limits>>,
}

const EXPECTED: &str = "expected `idle(..)`, `absolute(..)`, `unlimited`, `max_sessions = n` or \
                        `remember(..)`, e.g. `#[expiry(idle(minutes = 30), absolute(days = 5))]`";

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
    let entries = match &attr.meta {
        syn::Meta::List(list) => match list.parse_args_with(parse_entries) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push(syn::Error::new(
                    error.span(),
                    format!("{error}; {EXPECTED}"),
                ));
                return Some(None);
            }
        },
        _ => Punctuated::new(),
    };
    if entries.is_empty() {
        errors.push(syn::Error::new_spanned(
            attr,
            format!("empty `#[expiry]`; {EXPECTED}"),
        ));
        return Some(None);
    }
    Some(read_limits(&entries, true, errors))
}

fn parse_entries(input: ParseStream<'_>) -> syn::Result<Punctuated<Entry, Token![,]>> {
    Punctuated::parse_terminated(input)
}

/// The limits `entries` set; `remember(..)` is allowed at the top level only.
fn read_limits(
    entries: &Punctuated<Entry, Token![,]>,
    top_level: bool,
    errors: &mut Errors,
) -> Option<Limits> {
    let before = errors.len();
    let mut limits = Limits::default();
    let mut unlimited = None;
    let mut seen: Vec<String> = Vec::new();
    for entry in entries {
        let key = entry.key.to_string();
        if seen.contains(&key) {
            errors.push(syn::Error::new_spanned(
                &entry.key,
                format!("`{key}` set multiple times; keep one"),
            ));
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "idle" => limits.idle = timeout(entry, errors),
            "absolute" => limits.absolute = timeout(entry, errors),
            "unlimited" => {
                no_arguments(entry, "`unlimited` takes no arguments", errors);
                unlimited = Some(&entry.key);
            }
            "max_sessions" => limits.max_sessions = max_sessions(entry, errors),
            "remember" if top_level => match &entry.args {
                Some(args) => match syn::parse::Parser::parse2(parse_entries, args.clone()) {
                    Ok(inner) if inner.is_empty() => errors.push(syn::Error::new_spanned(
                        &entry.key,
                        "empty `remember(..)`; give the remembered log-in's limits, e.g. \
                         `remember(absolute(days = 30))`",
                    )),
                    Ok(inner) => {
                        limits.remember = read_limits(&inner, false, errors).map(Box::new);
                    }
                    Err(error) => errors.push(syn::Error::new(
                        error.span(),
                        format!("{error}; {EXPECTED}"),
                    )),
                },
                None => errors.push(syn::Error::new_spanned(
                    &entry.key,
                    "`remember` needs the remembered log-in's limits, e.g. \
                     `remember(absolute(days = 30))`",
                )),
            },
            "remember" => errors.push(syn::Error::new_spanned(
                &entry.key,
                "`remember(..)` cannot be nested: it already describes the remembered log-in",
            )),
            _ => {
                let hint = match key.as_str() {
                    "idle_timeout" | "inactivity" | "idle_for" => " (did you mean `idle`?)",
                    "absolute_timeout" | "max_age" | "lifetime" | "max" => {
                        " (did you mean `absolute`?)"
                    }
                    "remember_me" | "remembered" => " (did you mean `remember`?)",
                    "max_session" | "sessions" | "session_limit" => {
                        " (did you mean `max_sessions`?)"
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
            }
        }
    }
    if let Some(unlimited) = unlimited {
        if limits.idle.is_some() || limits.absolute.is_some() {
            errors.push(syn::Error::new_spanned(
                unlimited,
                "`unlimited` cannot be combined with `idle` or `absolute`; write \
                 `idle(unlimited)` or `absolute(unlimited)` to drop one limit",
            ));
        }
        limits.idle = Some(Timeout::Unlimited);
        limits.absolute = Some(Timeout::Unlimited);
    }
    (errors.len() == before).then_some(limits)
}

fn no_arguments(entry: &Entry, message: &str, errors: &mut Errors) {
    if let Some(args) = &entry.args {
        errors.push(syn::Error::new_spanned(args, message));
    }
    if let Some(value) = &entry.value {
        errors.push(syn::Error::new_spanned(value, message));
    }
}

/// `idle(minutes = 30)` or `idle(unlimited)`.
fn timeout(entry: &Entry, errors: &mut Errors) -> Option<Timeout> {
    let key = entry.key.to_string();
    if let Some(value) = &entry.value {
        errors.push(syn::Error::new_spanned(
            value,
            format!("write `{key}(..)`, e.g. `{key}(minutes = 30)`"),
        ));
        return None;
    }
    let Some(args) = &entry.args else {
        errors.push(syn::Error::new_spanned(
            &entry.key,
            format!("`{key}` needs a duration, e.g. `{key}(minutes = 30)`, or `{key}(unlimited)`"),
        ));
        return None;
    };
    if syn::parse2::<Ident>(args.clone()).is_ok_and(|ident| ident == "unlimited") {
        return Some(Timeout::Unlimited);
    }
    let terms = match syn::parse2::<Terms>(args.clone()) {
        Ok(terms) => terms,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let usage = Usage {
        what: &format!("`{key}(..)`"),
        example: &format!("`{key}(minutes = 30)`"),
        if_zero: ENDS_EVERY_SESSION,
    };
    total_seconds(&terms, usage, entry.key.span(), errors).map(Timeout::Secs)
}

/// `max_sessions = 3` or `max_sessions = unlimited`.
fn max_sessions(entry: &Entry, errors: &mut Errors) -> Option<Option<u32>> {
    const EXAMPLE: &str = "e.g. `max_sessions = 3`, or `max_sessions = unlimited`";
    if let Some(args) = &entry.args {
        errors.push(syn::Error::new_spanned(
            args,
            format!("write `max_sessions = n`, {EXAMPLE}"),
        ));
        return None;
    }
    let Some(value) = &entry.value else {
        errors.push(syn::Error::new_spanned(
            &entry.key,
            format!("`max_sessions` needs a number, {EXAMPLE}"),
        ));
        return None;
    };
    let problem = match value {
        Expr::Path(ExprPath { path, .. }) if path.is_ident("unlimited") => return Some(None),
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) if int.suffix().is_empty() => match int.base10_parse::<u32>() {
            Ok(0) => "a limit of zero sessions would refuse every log-in; expected a number \
                      greater than zero"
                .to_owned(),
            Ok(max) => return Some(Some(max)),
            Err(_) => "too many sessions: the limit must fit in u32".to_owned(),
        },
        _ => format!("expected a whole number of sessions, {EXAMPLE}"),
    };
    errors.push(syn::Error::new_spanned(value, problem));
    None
}

/// The `Policy` that `limits` describe, built from the runtime crate's public builder.
fn policy(limits: &Limits) -> TokenStream {
    let mut policy = quote!(::session_expiry::Policy::new());
    let timeout =
        |policy: &mut TokenStream, timeout: Option<Timeout>, with: &str, without: &str| {
            match timeout {
                Some(Timeout::Secs(secs)) => {
                    let with = Ident::new(with, Span::call_site());
                    *policy = quote!(#policy.#with(::core::time::Duration::from_secs(#secs)));
                }
                Some(Timeout::Unlimited) => {
                    let without = Ident::new(without, Span::call_site());
                    *policy = quote!(#policy.#without());
                }
                None => {}
            }
        };
    timeout(&mut policy, limits.idle, "with_idle", "without_idle");
    timeout(
        &mut policy,
        limits.absolute,
        "with_absolute",
        "without_absolute",
    );
    match limits.max_sessions {
        Some(Some(max)) => policy = quote!(#policy.with_max_sessions(#max)),
        Some(None) => policy = quote!(#policy.without_session_limit()),
        None => {}
    }
    policy
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
                    None => match &default {
                        Some(default) => default.clone(),
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
                let Some(limits) = limits else {
                    continue;
                };
                let name = &variant.ident;
                let own = policy(&limits);
                let remembered = match &limits.remember {
                    Some(remember) => {
                        let remember = policy(remember);
                        quote!(::core::option::Option::Some(#remember))
                    }
                    None => quote!(::core::option::Option::None),
                };
                arms.push((
                    quote!(Self::#name { .. } => #own,),
                    quote!(Self::#name { .. } => #remembered,),
                ));
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
    let (own, remembered): (Vec<_>, Vec<_>) = arms.into_iter().unzip();
    let (own, remembered) = if errors.is_empty() {
        (
            quote!(match self { #(#own)* }),
            quote!(match self { #(#remembered)* }),
        )
    } else {
        let stub = quote!(::core::unreachable!(
            "never runs: the derive reported a compile error"
        ));
        (stub.clone(), stub)
    };
    let errors = errors.to_compile_errors();
    quote! {
        #errors
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::session_expiry::ToPolicy for #ident #ty_generics #where_clause {
                fn to_policy(&self) -> ::session_expiry::Policy {
                    #own
                }

                fn remember_me_policy(&self) -> ::core::option::Option<::session_expiry::Policy> {
                    #remembered
                }
            }
        };
    }
}
