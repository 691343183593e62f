//! Files the crate ships for the browser (the expiry script and its style sheet), served with an
//! `ETag` so that browsers keep them and only revalidate, getting a body-less `304` while the
//! file has not changed.

use actix_web::{
    http::header::{self, EntityTag, HeaderValue, IfNoneMatch},
    HttpMessage as _, HttpRequest, HttpResponse,
};

/// A file compiled into the crate.
pub(crate) struct Asset {
    body: &'static str,
    content_type: &'static str,
    /// A hash of the body: the entity tag, computed at compile time.
    hash: u64,
}

/// The browser script: warning dialog, "stay signed in", typing as activity, tabs in step,
/// drafts of marked forms, texts in English, German and French (see [`crate::web`]).
pub(crate) const SCRIPT: Asset = Asset::new(
    include_str!("../assets/expiry.js"),
    "text/javascript; charset=utf-8",
);

/// The style sheet of the warning dialog, which the script links by itself.
pub(crate) const STYLE: Asset = Asset::new(
    include_str!("../assets/expiry.css"),
    "text/css; charset=utf-8",
);

/// Kept by browsers and shared caches, but revalidated before each use, so a new release of the
/// crate reaches every page at once and an unchanged file costs a `304` without a body.
const CACHE_CONTROL: &str = "public, no-cache";

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Self {
        Self {
            body,
            content_type,
            hash: fnv1a(body.as_bytes()),
        }
    }

    fn etag(&self) -> EntityTag {
        EntityTag::new_strong(format!("{:016x}", self.hash))
    }

    /// The file, or `304 Not Modified` when the request's `If-None-Match` names it already.
    pub(crate) fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let etag = self.etag();
        let unchanged = match req.get_header::<IfNoneMatch>() {
            Some(IfNoneMatch::Any) => true,
            // Weak comparison, as RFC 9110 asks for If-None-Match.
            Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
            None => false,
        };
        let mut answer = if unchanged {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        answer
            .insert_header(header::ETag(etag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        if unchanged {
            answer.finish()
        } else {
            answer.content_type(self.content_type).body(self.body)
        }
    }
}

/// 64-bit FNV-1a: tiny, `const`, and plenty to tell two versions of a file apart (it is no
/// defence against anyone, and needs to be none).
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use actix_web::{body::to_bytes, http::StatusCode, test::TestRequest};

    use super::*;

    fn if_none_match(value: &str) -> HttpRequest {
        TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, value))
            .to_http_request()
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_etag_changes_with_the_content() {
        let one = Asset::new("one", "text/plain");
        let two = Asset::new("two", "text/plain");
        assert_ne!(one.etag(), two.etag());
        assert_eq!(one.etag(), Asset::new("one", "text/css").etag());
        assert_eq!(SCRIPT.etag().tag().len(), 16);
    }

    #[actix_web::test]
    async fn a_first_request_gets_the_file_with_its_validators() {
        let answer = SCRIPT.respond(&TestRequest::get().to_http_request());
        assert_eq!(answer.status(), StatusCode::OK);
        let headers = answer.headers().clone();
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), CACHE_CONTROL);
        assert_eq!(
            headers.get(header::ETAG).unwrap().to_str().unwrap(),
            format!("\"{:016x}\"", fnv1a(SCRIPT.body.as_bytes()))
        );
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        let body = to_bytes(answer.into_body()).await.unwrap();
        assert_eq!(body, SCRIPT.body.as_bytes());
    }

    #[actix_web::test]
    async fn a_matching_if_none_match_gets_a_304_without_a_body() {
        let current = format!("\"{}\"", STYLE.etag().tag());
        for value in [
            current.clone(),
            format!("W/{current}"),
            format!("\"stale\", {current}"),
            "*".to_owned(),
        ] {
            let answer = STYLE.respond(&if_none_match(&value));
            assert_eq!(answer.status(), StatusCode::NOT_MODIFIED, "{value}");
            assert!(answer.headers().contains_key(header::ETAG), "{value}");
            assert!(!answer.headers().contains_key(header::CONTENT_TYPE));
            assert!(to_bytes(answer.into_body()).await.unwrap().is_empty());
        }
    }

    #[actix_web::test]
    async fn a_stale_or_malformed_if_none_match_gets_the_file() {
        for value in ["\"0000000000000000\"", "not-an-etag", ""] {
            let answer = STYLE.respond(&if_none_match(value));
            assert_eq!(answer.status(), StatusCode::OK, "{value:?}");
            assert_eq!(
                answer.headers().get(header::CONTENT_TYPE).unwrap(),
                "text/css; charset=utf-8"
            );
        }
    }
}
