//! The one duration grammar of every macro: `minutes = 5`, `hours = 1, minutes = 30`.

use proc_macro2::Span;
use syn::{
    ext::IdentExt as _,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    Expr, ExprLit, ExprUnary, Ident, Lit, Token, UnOp,
};

use crate::errors::Errors;

/// The units a duration may be written in, with their length in seconds.
const UNITS: [(&str, u64); 4] = [
    ("seconds", 1),
    ("minutes", 60),
    ("hours", 3600),
    ("days", 86_400),
];

/// Common misspellings and the unit they mean.
const ALIASES: [(&str, &str); 16] = [
    ("s", "seconds"),
    ("sec", "seconds"),
    ("secs", "seconds"),
    ("second", "seconds"),
    ("m", "minutes"),
    ("min", "minutes"),
    ("mins", "minutes"),
    ("minute", "minutes"),
    ("h", "hours"),
    ("hr", "hours"),
    ("hrs", "hours"),
    ("hour", "hours"),
    ("d", "days"),
    ("day", "days"),
    ("weeks", "days"),
    ("week", "days"),
];

/// One `unit = value` pair as written.
pub(crate) struct Term {
    pub(crate) unit: Ident,
    pub(crate) value: Expr,
}

impl Parse for Term {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `parse_any` accepts keywords too, so `type = 5` gets the "unknown unit" message.
        let unit = Ident::parse_any(input)?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(Self { unit, value })
    }
}

/// The terms of one duration, as written: `hours = 1, minutes = 30`.
pub(crate) struct Terms(pub(crate) Punctuated<Term, Token![,]>);

impl Parse for Terms {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Punctuated::parse_terminated(input).map(Self)
    }
}

/// How the messages name the place a duration is written.
pub(crate) struct Usage<'a> {
    /// E.g. "`#[idle_timeout]`".
    pub(crate) what: &'a str,
    /// E.g. "`#[idle_timeout(minutes = 30)]`".
    pub(crate) example: &'a str,
    /// What a zero duration would do, e.g. "would end every session at once".
    pub(crate) if_zero: &'a str,
}

/// What a zero timeout would do.
pub(crate) const ENDS_EVERY_SESSION: &str = "would end every session at once";

/// Adds up `terms` into whole seconds, reporting every mistake into `errors` at the token
/// that makes it. `span` is where to point when nothing was written.
pub(crate) fn total_seconds(
    terms: &Terms,
    usage: Usage<'_>,
    span: Span,
    errors: &mut Errors,
) -> Option<u64> {
    if terms.0.is_empty() {
        errors.push(syn::Error::new(
            span,
            format!(
                "{} needs a duration, e.g. {}; units: seconds, minutes, hours, days",
                usage.what, usage.example
            ),
        ));
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut total: Option<u64> = Some(0);
    for term in &terms.0 {
        let name = term.unit.to_string();
        let Some(&(unit, unit_secs)) = UNITS.iter().find(|(u, _)| *u == name) else {
            errors.push(syn::Error::new(term.unit.span(), unknown_unit(&name)));
            total = None;
            continue;
        };
        if seen.iter().any(|s| s == unit) {
            errors.push(syn::Error::new(
                term.unit.span(),
                format!("`{unit}` set multiple times; write each unit once, e.g. `hours = 1, minutes = 30`"),
            ));
            total = None;
            continue;
        }
        seen.push(unit.to_owned());
        let Some(count) = whole_number(&term.value, unit, errors) else {
            total = None;
            continue;
        };
        if count == 0 {
            errors.push(syn::Error::new_spanned(
                &term.value,
                format!(
                    "a timeout of zero {unit} {}; expected a number greater than zero",
                    usage.if_zero
                ),
            ));
            total = None;
            continue;
        }
        let secs = count.checked_mul(unit_secs);
        total = match (total, secs) {
            (Some(total), Some(secs)) => match total.checked_add(secs) {
                Some(sum) => Some(sum),
                None => {
                    errors.push(overflow(&term.value));
                    None
                }
            },
            (_, None) => {
                errors.push(overflow(&term.value));
                None
            }
            (None, Some(_)) => None,
        };
    }
    total
}

fn overflow(value: &Expr) -> syn::Error {
    syn::Error::new_spanned(
        value,
        "this duration overflows: the total must fit in u64 seconds (about 584 billion years)",
    )
}

fn unknown_unit(name: &str) -> String {
    let expected = "expected one of: seconds, minutes, hours, days";
    match ALIASES.iter().find(|(alias, _)| *alias == name) {
        Some((_, "days")) if name.starts_with('w') => {
            format!("unknown unit `{name}`; there is no `{name}` unit, use `days` (e.g. `days = 7`); {expected}")
        }
        Some((_, unit)) => format!("unknown unit `{name}`; did you mean `{unit}`? {expected}"),
        None if ["ms", "millis", "milliseconds"].contains(&name) => {
            format!("unknown unit `{name}`; timeouts are whole seconds at the finest; {expected}")
        }
        None => match UNITS
            .iter()
            .find(|(unit, _)| edit_distance(name, unit) <= 2)
        {
            Some((unit, _)) => format!("unknown unit `{name}`; did you mean `{unit}`? {expected}"),
            None => format!("unknown unit `{name}`; {expected}"),
        },
    }
}

/// Levenshtein distance, for "did you mean" hints on short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A non-negative integer literal that fits u64, or an error saying what was expected.
fn whole_number(value: &Expr, unit: &str, errors: &mut Errors) -> Option<u64> {
    let expected = format!("expected a whole number of {unit}, e.g. `{unit} = 5`");
    let problem = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => {
            if !int.suffix().is_empty() {
                format!("{expected}, without a type suffix")
            } else {
                match int.base10_parse::<u64>() {
                    Ok(n) => return Some(n),
                    Err(_) => {
                        errors.push(overflow(value));
                        return None;
                    }
                }
            }
        }
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            format!("{expected}; a timeout cannot be negative")
        }
        Expr::Lit(ExprLit {
            lit: Lit::Float(_), ..
        }) => {
            format!(
                "{expected}, found a float; use a smaller unit for fractions, e.g. `seconds = 90`"
            )
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(_), ..
        }) => {
            format!("{expected}, found a string; write the number without quotes")
        }
        _ => format!(
            "{expected}, found an expression; only integer literals are checked at compile time"
        ),
    };
    errors.push(syn::Error::new_spanned(value, problem));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_units_get_a_suggestion() {
        assert!(unknown_unit("mins").contains("did you mean `minutes`"));
        assert!(unknown_unit("dayz").contains("did you mean `days`"));
        assert!(unknown_unit("secnds").contains("did you mean `seconds`"));
        assert!(unknown_unit("ms").contains("whole seconds"));
        assert!(!unknown_unit("fortnights").contains("did you mean"));
        assert_eq!(edit_distance("hours", "hours"), 0);
    }
}
