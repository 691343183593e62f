//! The script's state-changing requests pass the server's same-origin check and carry the
//! page's CSRF token in the header the page names.

use std::time::Duration;

use crate::{app::Timeouts, browser::in_browser};

#[tokio::test]
async fn keepalive_and_sign_out_carry_the_csrf_token_and_pass_the_same_origin_check() {
    in_browser(
        Timeouts {
            idle: Duration::from_secs(8),
            absolute: Duration::from_secs(3600),
            warn: Duration::from_secs(4),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.open("/csrf").await; // <meta name="csrf-token" content="token-1">
            page.wait_for_script().await;
            page.type_into("notes", "typing is activity here").await;
            page.wait_for_keepalives(1, Duration::from_secs(5)).await;
            let first = page.log.keepalives()[0].clone();
            assert_eq!(first.csrf.as_deref(), Some("token-1"), "{first:?}");
            assert_eq!(first.fetch_site.as_deref(), Some("same-origin"));
            assert_eq!(first.status, 204, "the same-origin check let it through");

            // The token is read for each request: a page that rotates it is followed.
            page.js(
                "document.querySelector('meta[name=csrf-token]').content = 'token-2'; \
                     return true;",
            )
            .await;
            tokio::time::sleep(Duration::from_millis(1100)).await; // the next refresh window
            page.type_into("notes", " more").await;
            page.wait_for_keepalives(2, Duration::from_secs(5)).await;
            let second = page.log.keepalives()[1].clone();
            assert_eq!(second.csrf.as_deref(), Some("token-2"), "{second:?}");

            page.wait_for_dialog(Duration::from_secs(10)).await;
            page.click(".session-expiry-secondary").await; // "Sign out"
            page.wait_for_location("/login", Duration::from_secs(10))
                .await;
            let logout = page.log.to("/logout");
            assert_eq!(logout.len(), 1, "{logout:?}");
            assert_eq!(logout[0].csrf.as_deref(), Some("token-2"));
            assert_eq!(logout[0].fetch_site.as_deref(), Some("same-origin"));
            assert_eq!(logout[0].status, 204, "signed out, not refused");
            let status = page.server_status().await;
            assert_eq!(status.status, 401, "{status:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn without_the_attribute_no_token_is_sent() {
    in_browser(
        Timeouts {
            idle: Duration::from_secs(20),
            absolute: Duration::from_secs(3600),
            warn: Duration::from_secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            page.js(
                "const m = document.createElement('meta'); m.name = 'csrf-token'; \
                     m.content = 'not-asked-for'; document.head.append(m); return true;",
            )
            .await;
            page.type_into("details", "typing").await;
            page.wait_for_keepalives(1, Duration::from_secs(5)).await;
            let keepalive = page.log.keepalives()[0].clone();
            assert_eq!(keepalive.csrf, None, "{keepalive:?}");
            assert_eq!(keepalive.status, 204);
        },
    )
    .await;
}
