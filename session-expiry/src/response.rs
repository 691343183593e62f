//! What a request whose session expired gets back, and the open-redirect guard for `next`.

use std::time::Duration;

use actix_web::{
    body::EitherBody,
    dev::ServiceResponse,
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
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
/// use session_expiry::web::wants_json;
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
/// use session_expiry::web::same_site_path;
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
    match redirect_for(req, login_path, Some(reason)) {
        Some(location) => see_other(&location),
        None => HttpResponse::Unauthorized()
            .insert_header(NO_STORE)
            .json(serde_json::json!({ "error": "session_expired", "reason": reason })),
    }
}

/// The answer to a request whose session cannot be checked because the session store is
/// unreachable: `503` with `Retry-After`, never cached; a page for a browser navigation.
pub(crate) fn unavailable(req: &HttpRequest, retry_after: Duration) -> HttpResponse {
    Refusal::Unavailable(retry_after).answer(Some(req))
}

/// One of the crate's own `403` and `503` answers. Kept in the extensions of the JSON answer
/// that an error without its request gives (`ResponseError` sees none), so that the way out
/// can still give a browser navigation a page instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// [`SameOrigin`](crate::same_origin::SameOrigin) refused a request from another origin.
    CrossSite,
    /// A log-in beyond the session limit, refused.
    TooManySessions { max: u32 },
    /// The session store is unreachable.
    Unavailable(Duration),
}

impl Refusal {
    /// The answer for `req`: a small HTML page for a browser navigation, JSON otherwise (and
    /// without the request).
    pub(crate) fn answer(self, req: Option<&HttpRequest>) -> HttpResponse {
        if req.is_some_and(wants_page) {
            self.page()
        } else {
            self.json()
        }
    }

    fn builder(self) -> actix_web::HttpResponseBuilder {
        let mut builder = match self {
            Self::CrossSite | Self::TooManySessions { .. } => HttpResponse::Forbidden(),
            Self::Unavailable(_) => HttpResponse::ServiceUnavailable(),
        };
        builder.insert_header(NO_STORE);
        if let Self::Unavailable(retry_after) = self {
            builder.insert_header((header::RETRY_AFTER, retry_after.as_secs().max(1)));
        }
        builder
    }

    fn json(self) -> HttpResponse {
        let body = match self {
            Self::CrossSite => serde_json::json!({ "error": "cross_site_request" }),
            Self::TooManySessions { max } => {
                serde_json::json!({ "error": "too_many_sessions", "max_sessions": max })
            }
            Self::Unavailable(_) => serde_json::json!({ "error": "session_store_unavailable" }),
        };
        let mut res = self.builder().json(body);
        res.extensions_mut().insert(self);
        res
    }

    pub(crate) fn page(self) -> HttpResponse {
        let (title, text) = match self {
            Self::CrossSite => (
                "Request refused",
                "This request came from another site, so it was not carried out. Go back to \
                 the page and try again there.",
            ),
            Self::TooManySessions { .. } => (
                "Too many sessions",
                "You are signed in on too many devices. Sign out on one of them, then sign in \
                 here again.",
            ),
            Self::Unavailable(_) => (
                "Temporarily unavailable",
                "Your session cannot be checked right now. Please try again in a moment.",
            ),
        };
        self.builder()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width\">\
                 <title>{title}</title></head>\n<body><h1>{title}</h1><p>{text}</p></body></html>\n"
            ))
    }
}

/// Whether a request is a browser's navigation, which should get a page rather than JSON:
/// `Sec-Fetch-Mode: navigate`, or an `Accept` that names `text/html` (older browsers), and not
/// a script ([`wants_json`]). A client that says neither (curl, `fetch`) gets JSON, as before.
pub(crate) fn wants_page(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let navigate = crate::fetch_metadata::is_navigation(headers);
    let html = || {
        headers
            .get_all(header::ACCEPT)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| {
                range
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .eq_ignore_ascii_case("text/html")
            })
    };
    (navigate || html()) && !wants_json(req)
}

/// The way out for a handler's answer: one of the crate's own refusals, made without its
/// request, becomes a page for a browser navigation. Costs one status comparison otherwise.
pub(crate) fn negotiated<B>(res: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    if !matches!(
        res.status(),
        StatusCode::FORBIDDEN | StatusCode::SERVICE_UNAVAILABLE
    ) {
        return res.map_into_left_body();
    }
    let refusal = res.response().extensions().get::<Refusal>().copied();
    match refusal {
        Some(refusal) if wants_page(res.request()) => {
            let page = refusal.page();
            res.into_response(page).map_into_right_body()
        }
        _ => res.map_into_left_body(),
    }
}

/// A `303 See Other` to `location`, never cached.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(NO_STORE)
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Where to send a browser that must sign in (or confirm its password) first, for a JSON
/// client `None`: `path?next=<this page>[&reason=<reason>]`, leaving out a `next` that is unsafe
/// or that would only lead back to `path`.
pub(crate) fn redirect_for(
    req: &HttpRequest,
    path: Option<&str>,
    reason: Option<ExpiryReason>,
) -> Option<String> {
    path.filter(|_| !wants_json(req))
        .map(|path| location_with_next(path, req, reason))
}

/// `path?next=<this page>[&reason=<reason>]`, leaving out a `next` that is unsafe or that
/// would only lead back to `path`.
fn location_with_next(path: &str, req: &HttpRequest, reason: Option<ExpiryReason>) -> String {
    let here = req
        .uri()
        .path_and_query()
        .map_or(req.path(), |pq| pq.as_str());
    let target = path.split('?').next().unwrap_or(path);
    let next = same_site_path(here).filter(|_| req.path() != target);
    let mut location = path.to_owned();
    let mut separator = if path.contains('?') { '&' } else { '?' };
    if let Some(next) = next {
        location.push(separator);
        location.push_str("next=");
        location.push_str(&encode_query_value(next));
        separator = '&';
    }
    if let Some(reason) = reason {
        location.push(separator);
        location.push_str("reason=");
        location.push_str(reason.as_str());
    }
    location
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
            location_with_next("/login", &req, Some(ExpiryReason::Idle)),
            "/login?next=/orders%3Fpage%3D2&reason=idle"
        );
        assert_eq!(
            location_with_next("/confirm", &req, None),
            "/confirm?next=/orders%3Fpage%3D2"
        );
        let req = TestRequest::with_uri("/login").to_http_request();
        assert_eq!(
            location_with_next("/login", &req, Some(ExpiryReason::Absolute)),
            "/login?reason=absolute"
        );
        assert_eq!(location_with_next("/login?x=1", &req, None), "/login?x=1");
    }

    #[test]
    fn only_a_browsers_navigation_wants_a_page() {
        let wants = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post();
            for &(name, value) in headers {
                req = req.insert_header((name, value));
            }
            wants_page(&req.to_http_request())
        };
        assert!(wants(&[("Sec-Fetch-Mode", "navigate")]));
        assert!(wants(&[("Accept", "text/html,*/*;q=0.8")]));
        assert!(!wants(&[]), "curl");
        assert!(!wants(&[("Accept", "*/*"), ("Sec-Fetch-Mode", "cors")]));
        assert!(!wants(&[("Accept", "application/json")]));
        assert!(!wants(&[
            ("Accept", "text/html"),
            ("X-Requested-With", "XMLHttpRequest")
        ]));
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
