//! What a request whose session expired gets back, and the open-redirect guard for `next`.

use actix_web::{
    http::header::{self, HeaderValue},
    HttpRequest, HttpResponse,
};

use crate::ExpiryReason;

pub(crate) const NO_STORE: (header::HeaderName, HeaderValue) =
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));

/// Whether a request comes from a script or API client that wants JSON rather than a page:
/// `X-Requested-With: XMLHttpRequest`, or an `Accept` header that names `application/json`
/// but not `text/html`.
///
/// # Examples
/// ```
/// use actix_web::test::TestRequest;
/// use session_expiry::wants_json;
///
/// let api = TestRequest::default().insert_header(("Accept", "application/json")).to_http_request();
/// let browser = TestRequest::default()
///     .insert_header(("Accept", "text/html,application/json;q=0.9"))
///     .to_http_request();
/// assert!(wants_json(&api));
/// assert!(!wants_json(&browser));
/// ```
#[must_use]
pub fn wants_json(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let xhr = headers
        .get("x-requested-with")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("XMLHttpRequest"));
    let accept = headers
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|range| range.split(';').next().unwrap_or_default().trim());
    let (mut json, mut html) = (false, false);
    for media_type in accept {
        json |= media_type.eq_ignore_ascii_case("application/json");
        html |= media_type.eq_ignore_ascii_case("text/html");
    }
    xhr || (json && !html)
}

/// Returns `candidate` if it is safe to redirect to: a same-site relative path (`/…`), never a
/// protocol-relative `//host`, a scheme, a backslash (browsers read it as `/`) or a control
/// character. Use it on every `next` parameter before redirecting.
///
/// # Examples
/// ```
/// use session_expiry::same_site_path;
/// assert_eq!(same_site_path("/orders?page=2"), Some("/orders?page=2"));
/// assert_eq!(same_site_path("//evil.example/"), None);
/// assert_eq!(same_site_path("https://evil.example/"), None);
/// assert_eq!(same_site_path("/\\evil.example"), None);
/// ```
#[must_use]
pub fn same_site_path(candidate: &str) -> Option<&str> {
    const MAX_LEN: usize = 2048;
    let safe = candidate.len() <= MAX_LEN
        && candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate.chars().any(char::is_control);
    safe.then_some(candidate)
}

/// The answer to a request whose session just ended.
pub(crate) fn expired(
    req: &HttpRequest,
    reason: ExpiryReason,
    login_path: Option<&str>,
) -> HttpResponse {
    match login_path {
        Some(login_path) if !wants_json(req) => {
            let location = login_location(login_path, req, reason);
            HttpResponse::SeeOther()
                .insert_header(NO_STORE)
                .insert_header((header::LOCATION, location))
                .finish()
        }
        _ => HttpResponse::Unauthorized()
            .insert_header(NO_STORE)
            .json(serde_json::json!({ "error": "session_expired", "reason": reason })),
    }
}

/// The answer to a request whose session cannot be checked because the session store is
/// unreachable: `503` with `Retry-After`, never cached.
pub(crate) fn unavailable(retry_after: std::time::Duration) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header(NO_STORE)
        .insert_header((header::RETRY_AFTER, retry_after.as_secs().max(1)))
        .json(serde_json::json!({ "error": "session_store_unavailable" }))
}

/// `login_path?next=<this page>&reason=<reason>`, leaving out a `next` that is unsafe or that
/// would only lead back to the log-in page.
fn login_location(login_path: &str, req: &HttpRequest, reason: ExpiryReason) -> String {
    let here = req
        .uri()
        .path_and_query()
        .map_or(req.path(), |pq| pq.as_str());
    let next = same_site_path(here).filter(|_| req.path() != login_path);
    let separator = if login_path.contains('?') { '&' } else { '?' };
    match next {
        Some(next) => format!(
            "{login_path}{separator}next={}&reason={reason}",
            encode_query_value(next)
        ),
        None => format!("{login_path}{separator}reason={reason}"),
    }
}

/// Percent-encodes a query value, leaving `/` readable (RFC 3986 allows it in a query).
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_login_location_carries_the_page_and_the_reason() {
        let req = TestRequest::with_uri("/orders?page=2").to_http_request();
        assert_eq!(
            login_location("/login", &req, ExpiryReason::Idle),
            "/login?next=/orders%3Fpage%3D2&reason=idle"
        );
        let req = TestRequest::with_uri("/login").to_http_request();
        assert_eq!(
            login_location("/login", &req, ExpiryReason::Absolute),
            "/login?reason=absolute"
        );
    }

    #[test]
    fn only_same_site_paths_are_accepted_as_next() {
        for bad in [
            "",
            "evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/\tevil",
            "/\r\nLocation: https://evil.example",
            "/x\u{7f}",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
        assert_eq!(same_site_path("/"), Some("/"));
        assert_eq!(same_site_path("/a/b?c=d#e"), Some("/a/b?c=d#e"));
    }
}
