//! The syntax of `#[expiry(..)]`: each key read on its own, with its mistakes reported at the
//! token that makes them. Checks between keys are `valid.rs`'s.

use proc_macro2::TokenStream;
use syn::{
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    Attribute, Expr, ExprLit, ExprPath, Ident, Lit, Token,
};

use super::ast::{Limits, SessionLimit, Timeout};
use crate::{
    duration::{total_seconds, Terms, Usage, ENDS_EVERY_SESSION},
    errors::Errors,
};

// The attribute and its keys, declared once (as serde_derive's `internals/symbol.rs` does).
const EXPIRY: &str = "expiry";
const IDLE: &str = "idle";
const ABSOLUTE: &str = "absolute";
const UNLIMITED: &str = "unlimited";
const MAX_SESSIONS: &str = "max_sessions";
const REMEMBER: &str = "remember";

const EXPECTED: &str = "expected `idle(..)`, `absolute(..)`, `unlimited`, `max_sessions = n` or \
                        `remember(..)`, e.g. `#[expiry(idle(minutes = 30), absolute(days = 5))]`";

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

type Entries = Punctuated<Entry, Token![,]>;

fn parse_entries(input: ParseStream<'_>) -> syn::Result<Entries> {
    Punctuated::parse_terminated(input)
}

/// Which list the entries are in: `remember(..)` may only be written in the outer one.
#[derive(Clone, Copy)]
enum Level {
    /// `#[expiry(..)]` itself.
    Own,
    /// Its `remember(..)`.
    Remembered,
}

/// The limits of the single `#[expiry(..)]` in `attrs`. `None` when there is none, and also
/// when it is wrong: then the error is in `errors`, which ends the derive before its limits
/// could be missed.
pub(crate) fn expiry(attrs: &[Attribute], errors: &mut Errors) -> Option<Limits> {
    let mut found = attrs.iter().filter(|a| a.path().is_ident(EXPIRY));
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
                errors.push(with_expected(&error));
                return None;
            }
        },
        _ => Punctuated::new(),
    };
    if entries.is_empty() {
        errors.push(syn::Error::new_spanned(
            attr,
            format!("empty `#[expiry]`; {EXPECTED}"),
        ));
        return None;
    }
    read_limits(&entries, Level::Own, errors)
}

/// A syntax error, with what the attribute expects.
fn with_expected(error: &syn::Error) -> syn::Error {
    syn::Error::new(error.span(), format!("{error}; {EXPECTED}"))
}

/// The limits `entries` set, or `None` after reporting why not.
fn read_limits(entries: &Entries, level: Level, errors: &mut Errors) -> Option<Limits> {
    let before = errors.len();
    let mut limits = Limits::default();
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
        read_entry(entry, &key, level, &mut limits, errors);
        seen.push(key);
    }
    (errors.len() == before).then_some(limits)
}

/// Reads one entry, named `key`, into `limits`.
fn read_entry(entry: &Entry, key: &str, level: Level, limits: &mut Limits, errors: &mut Errors) {
    match (key, level) {
        (IDLE, _) => limits.idle = timeout(entry, errors),
        (ABSOLUTE, _) => limits.absolute = timeout(entry, errors),
        (UNLIMITED, _) => {
            no_arguments(entry, "`unlimited` takes no arguments", errors);
            limits.unlimited = Some(entry.key.clone());
        }
        (MAX_SESSIONS, _) => {
            if let Some(max) = max_sessions(entry, errors) {
                limits.max_sessions = max;
            }
        }
        (REMEMBER, Level::Own) => limits.remember = remembered(entry, errors).map(Box::new),
        (REMEMBER, Level::Remembered) => errors.push(syn::Error::new_spanned(
            &entry.key,
            "`remember(..)` cannot be nested: it already describes the remembered log-in",
        )),
        (unknown, _) => errors.push(syn::Error::new_spanned(
            &entry.key,
            format!(
                "unknown key `{unknown}`{}; {EXPECTED}",
                did_you_mean(unknown)
            ),
        )),
    }
}

/// A hint for the keys people write instead of ours.
fn did_you_mean(unknown: &str) -> &'static str {
    match unknown {
        "idle_timeout" | "inactivity" | "idle_for" => " (did you mean `idle`?)",
        "absolute_timeout" | "max_age" | "lifetime" | "max" => " (did you mean `absolute`?)",
        "remember_me" | "remembered" => " (did you mean `remember`?)",
        "max_session" | "sessions" | "session_limit" => " (did you mean `max_sessions`?)",
        "seconds" | "minutes" | "hours" | "days" => {
            " (a duration goes inside `idle(..)` or `absolute(..)`)"
        }
        _ => "",
    }
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
    if syn::parse2::<Ident>(args.clone()).is_ok_and(|ident| ident == UNLIMITED) {
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
fn max_sessions(entry: &Entry, errors: &mut Errors) -> Option<SessionLimit> {
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
        Expr::Path(ExprPath { path, .. }) if path.is_ident(UNLIMITED) => {
            return Some(SessionLimit::Unlimited)
        }
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) if int.suffix().is_empty() => match int.base10_parse::<u32>() {
            Ok(0) => "a limit of zero sessions would refuse every log-in; expected a number \
                      greater than zero"
                .to_owned(),
            Ok(max) => return Some(SessionLimit::AtMost(max)),
            Err(_) => "too many sessions: the limit must fit in u32".to_owned(),
        },
        _ => format!("expected a whole number of sessions, {EXAMPLE}"),
    };
    errors.push(syn::Error::new_spanned(value, problem));
    None
}

/// `remember(absolute(days = 30))`: the limits of a remembered log-in.
fn remembered(entry: &Entry, errors: &mut Errors) -> Option<Limits> {
    let Some(args) = &entry.args else {
        errors.push(syn::Error::new_spanned(
            &entry.key,
            "`remember` needs the remembered log-in's limits, e.g. \
             `remember(absolute(days = 30))`",
        ));
        return None;
    };
    match syn::parse::Parser::parse2(parse_entries, args.clone()) {
        Ok(inner) if inner.is_empty() => {
            errors.push(syn::Error::new_spanned(
                &entry.key,
                "empty `remember(..)`; give the remembered log-in's limits, e.g. \
                 `remember(absolute(days = 30))`",
            ));
            None
        }
        Ok(inner) => read_limits(&inner, Level::Remembered, errors),
        Err(error) => {
            errors.push(with_expected(&error));
            None
        }
    }
}
