//! The code of `#[derive(ExpiryPolicy)]`: a `ToPolicy` impl built from the runtime crate's
//! public `Policy` builder, or a stub impl beside the errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use super::ast::{Input, Limits, SessionLimit, Timeout};
use crate::errors::Errors;

/// `ToPolicy` for a validated input: one match arm per variant in each method.
pub(crate) fn to_policy_impl(input: &Input<'_>) -> TokenStream {
    let (own, remembered): (Vec<_>, Vec<_>) = input
        .variants
        .iter()
        .filter_map(|variant| {
            let name = variant.ident;
            let limits = input.limits_of(variant)?;
            let own = policy(limits);
            let remembered = match &limits.remember {
                Some(remember) => {
                    let remember = policy(remember);
                    quote!(::core::option::Option::Some(#remember))
                }
                None => quote!(::core::option::Option::None),
            };
            Some((
                quote!(Self::#name { .. } => #own,),
                quote!(Self::#name { .. } => #remembered,),
            ))
        })
        .unzip();
    impl_block(
        input.original,
        &quote!(match self { #(#own)* }),
        &quote!(match self { #(#remembered)* }),
    )
}

/// The errors, and an impl whose bodies never run: uses of the trait then compile, so one
/// mistake gives one error.
pub(crate) fn stub_impl(original: &DeriveInput, errors: &Errors) -> TokenStream {
    let errors = errors.to_compile_errors();
    let stub = quote!(::core::unreachable!(
        "never runs: the derive reported a compile error"
    ));
    let stub = impl_block(original, &stub, &stub);
    quote!(#errors #stub)
}

fn impl_block(original: &DeriveInput, own: &TokenStream, remembered: &TokenStream) -> TokenStream {
    let ident = &original.ident;
    let (impl_generics, ty_generics, where_clause) = original.generics.split_for_impl();
    quote! {
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

/// The `Policy` that `limits` describe: a setter call for each limit they set.
fn policy(limits: &Limits) -> TokenStream {
    let idle = match limits.idle() {
        Some(Timeout::Secs(secs)) => quote!(.with_idle(::core::time::Duration::from_secs(#secs))),
        Some(Timeout::Unlimited) => quote!(.without_idle()),
        None => TokenStream::new(),
    };
    let absolute = match limits.absolute() {
        Some(Timeout::Secs(secs)) => {
            quote!(.with_absolute(::core::time::Duration::from_secs(#secs)))
        }
        Some(Timeout::Unlimited) => quote!(.without_absolute()),
        None => TokenStream::new(),
    };
    let max_sessions = match limits.max_sessions {
        SessionLimit::AtMost(max) => quote!(.with_max_sessions(#max)),
        SessionLimit::Unlimited => quote!(.without_max_sessions()),
        SessionLimit::Inherited => TokenStream::new(),
    };
    quote!(::session_expiry::Policy::new() #idle #absolute #max_sessions)
}
