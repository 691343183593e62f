//! What the user sees when a session ends while a page is open.

use std::time::Duration;

use crate::{app::Timeouts, browser::in_browser};

#[tokio::test]
async fn an_expired_session_lands_on_the_login_page_with_the_reason_shown() {
    in_browser(
        Timeouts {
            idle: Duration::from_secs(4),
            absolute: Duration::from_secs(3600),
            warn: Duration::from_secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            let history = page.js("return history.length;").await;

            let login = page
                .wait_for_location("/login", Duration::from_secs(12))
                .await;
            assert_eq!(login, "/login?next=%2Freport&reason=idle");
            let text = page.text().await;
            assert!(
                text.contains("You were signed out after a period of inactivity."),
                "{text}"
            );
            assert_eq!(
                page.js("return history.length;").await,
                history,
                "the expired page was replaced, not stacked"
            );
            let status = page.server_status().await;
            assert_eq!(status.status, 401, "{status:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn an_evicted_session_lands_on_the_login_page_that_says_why() {
    in_browser(
        Timeouts {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(3600),
            warn: Duration::from_secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            // A page whose status endpoint answers that the session was evicted (signed in on
            // too many devices, this one the least recently used).
            page.open("/evicted").await;
            let login = page
                .wait_for_location("/login", Duration::from_secs(10))
                .await;
            assert_eq!(login, "/login?next=%2Fevicted&reason=evicted");
            let text = page.text().await;
            assert!(text.contains("signed in on too many devices"), "{text}");
        },
    )
    .await;
}
