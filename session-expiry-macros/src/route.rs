//! `#[idle_timeout]`, `#[absolute_timeout]`, `#[fresh_auth]` and `#[passive]`: each adds one guard extractor
//! (a public runtime type) as the handler's first argument, and nothing else.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens as _};
use syn::{spanned::Spanned as _, FnArg, Item, ItemFn, Pat, PatType, PatWild};

use crate::{
    duration::{total_seconds, Terms, Usage, ENDS_EVERY_SESSION},
    errors::Errors,
};

/// Which route attribute is being expanded.
#[derive(Clone, Copy)]
pub(crate) enum RouteAttr {
    IdleTimeout,
    AbsoluteTimeout,
    FreshAuth,
    Passive,
}

impl RouteAttr {
    fn name(self) -> &'static str {
        match self {
            Self::IdleTimeout => "idle_timeout",
            Self::AbsoluteTimeout => "absolute_timeout",
            Self::FreshAuth => "fresh_auth",
            Self::Passive => "passive",
        }
    }

    /// The guard type for the parsed arguments, or `None` after reporting why not.
    fn guard(self, args: TokenStream, errors: &mut Errors) -> Option<TokenStream> {
        let (guard, if_zero) = match self {
            Self::IdleTimeout => (quote!(::session_expiry::IdleWithin), ENDS_EVERY_SESSION),
            Self::AbsoluteTimeout => (quote!(::session_expiry::AbsoluteWithin), ENDS_EVERY_SESSION),
            Self::FreshAuth => (
                quote!(::session_expiry::FreshAuth),
                "would ask for the password again on every request",
            ),
            Self::Passive => return passive_guard(args, errors),
        };
        let secs = self.seconds(args, if_zero, errors)?;
        Some(quote!(#guard<#secs>))
    }

    /// The window written in `args`, in whole seconds.
    fn seconds(self, args: TokenStream, if_zero: &str, errors: &mut Errors) -> Option<u64> {
        let name = self.name();
        let span = if args.is_empty() {
            Span::call_site()
        } else {
            args.span()
        };
        let terms = match syn::parse2::<Terms>(args) {
            Ok(terms) => terms,
            Err(error) => {
                errors.push(syn::Error::new(
                    error.span(),
                    format!(
                        "{error}; expected `unit = number` pairs, e.g. `#[{name}(minutes = 30)]`"
                    ),
                ));
                return None;
            }
        };
        let usage = Usage {
            what: &format!("`#[{name}]`"),
            example: &format!("`#[{name}(minutes = 30)]`"),
            if_zero,
        };
        total_seconds(&terms, usage, span, errors)
    }
}

/// `#[passive]` takes no window: its guard is the plain `Passive` extractor.
fn passive_guard(args: TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            args,
            "`#[passive]` takes no arguments; write `#[passive]` alone",
        ));
        return None;
    }
    Some(quote!(::session_expiry::Passive))
}

pub(crate) fn expand(attr: RouteAttr, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let guard = attr.guard(args, &mut errors);
    let name = attr.name();

    let mut handler = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(handler) => handler,
        Err(_) => {
            let message = format!("`#[{name}]` can only be applied to an async fn handler");
            errors.push(match syn::parse2::<Item>(item.clone()) {
                Ok(Item::Struct(syn::ItemStruct {
                    struct_token,
                    ident,
                    ..
                })) => syn::Error::new_spanned(quote!(#struct_token #ident), message),
                Ok(Item::Enum(syn::ItemEnum {
                    enum_token, ident, ..
                })) => syn::Error::new_spanned(quote!(#enum_token #ident), message),
                _ => syn::Error::new(Span::call_site(), message),
            });
            let errors = errors.to_compile_errors();
            return quote!(#errors #item);
        }
    };
    if handler.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            handler.sig.fn_token.span(),
            format!("`#[{name}]` requires an `async fn`: actix-web handlers are async"),
        ));
    }
    for other in &handler.attrs {
        if other
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == name)
        {
            errors.push(syn::Error::new_spanned(
                other,
                format!("`#[{name}]` is applied more than once to this handler; keep one"),
            ));
        }
    }
    match guard {
        Some(guard) if errors.is_empty() => {
            let guard_arg = FnArg::Typed(PatType {
                attrs: Vec::new(),
                pat: Box::new(Pat::Wild(PatWild {
                    attrs: Vec::new(),
                    underscore_token: Default::default(),
                })),
                colon_token: Default::default(),
                ty: Box::new(syn::Type::Verbatim(guard)),
            });
            handler.sig.inputs.insert(0, guard_arg);
            handler.into_token_stream()
        }
        // Emit the handler unchanged beside the errors, so one typo does not cascade.
        _ => {
            let errors = errors.to_compile_errors();
            quote!(#errors #handler)
        }
    }
}
