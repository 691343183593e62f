//! The Fetch Metadata request headers a browser sends (`Sec-Fetch-Site`, `Sec-Fetch-Mode`),
//! read with names built once: a `&str` name is parsed again on every lookup, which costs
//! hundreds of instructions on a path every request takes.

use actix_web::http::header::{HeaderMap, HeaderName};

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
const SEC_FETCH_MODE: HeaderName = HeaderName::from_static("sec-fetch-mode");

/// `Sec-Fetch-Site`, if the browser sent it: `same-origin`, `same-site`, `cross-site` or `none`.
pub(crate) fn site(headers: &HeaderMap) -> Option<&[u8]> {
    headers.get(SEC_FETCH_SITE).map(|site| site.as_bytes())
}

/// Whether the browser says this request is a navigation (`Sec-Fetch-Mode: navigate`).
pub(crate) fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get(SEC_FETCH_MODE)
        .is_some_and(|mode| mode.as_bytes() == b"navigate")
}
