//! Typing counts as activity where a page opts in (`data-activity="input"`): a keep-alive at
//! most once per refresh window, shared by all tabs, none while hidden and none that could not
//! move the end of the session.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::{
    app::{Posted, Timeouts},
    browser::in_browser,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The shortest gap between two keep-alives, if there were two.
fn shortest_gap(keepalives: &[Posted]) -> Option<Duration> {
    keepalives
        .windows(2)
        .map(|pair| pair[1].at.duration_since(pair[0].at))
        .min()
}

#[tokio::test]
async fn typing_for_twice_the_idle_timeout_keeps_the_session_with_one_keepalive_a_second() {
    // Idle 5 s: the refresh window is a twentieth of it, which the server reports as 0 s, and
    // the script then sends at most one keep-alive a second.
    in_browser(
        Timeouts {
            idle: secs(5),
            absolute: secs(3600),
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            let start = Instant::now();
            let typing = secs(10);
            while start.elapsed() < typing {
                page.keep_typing("details", Duration::from_millis(500))
                    .await;
                assert!(page.dialog().await.is_none(), "no warning while typing");
                assert_eq!(page.location().await, "/report");
            }
            let status = page.server_status().await;
            assert_eq!(status.status, 200, "still signed in: {status:?}");

            let keepalives = page.log.keepalives();
            let keys = page
                .js("return document.forms.report.details.value.length;")
                .await;
            eprintln!(
                "{} keep-alives during {:?} of typing ({keys} characters)",
                keepalives.len(),
                start.elapsed()
            );
            assert!(
                (5..=11).contains(&keepalives.len()),
                "about one a second: {keepalives:?}"
            );
            // Measured where they arrive: a little jitter, where unthrottled ones come
            // milliseconds apart.
            let gap = shortest_gap(&keepalives).unwrap();
            assert!(gap >= Duration::from_millis(800), "throttled: {gap:?}");
            assert!(keepalives.iter().all(|k| k.status == 204), "{keepalives:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn without_the_opt_in_typing_sends_no_keepalive() {
    in_browser(
        Timeouts {
            idle: secs(20),
            absolute: secs(3600),
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.open("/fallback").await; // no data-activity
            page.wait_for_script().await;
            page.keep_typing("notes", secs(3)).await;
            assert!(
                page.log.keepalives().is_empty(),
                "{:?}",
                page.log.keepalives()
            );

            // The same typing on a page that opts in does send one.
            page.open("/report").await;
            page.wait_for_script().await;
            page.keep_typing("details", secs(1)).await;
            page.wait_for_keepalives(1, secs(5)).await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_hidden_page_sends_no_keepalive() {
    in_browser(
        Timeouts {
            idle: secs(20),
            absolute: secs(3600),
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            page.hide().await;
            page.keep_typing("details", secs(3)).await;
            let typed = page
                .js("return document.forms.report.details.value.length;")
                .await;
            assert!(typed.as_u64().unwrap() > 10, "the keys arrived: {typed}");
            assert!(
                page.log.keepalives().is_empty(),
                "{:?}",
                page.log.keepalives()
            );

            page.show().await;
            page.keep_typing("details", secs(1)).await;
            page.wait_for_keepalives(1, secs(5)).await; // visible again: it counts
        },
    )
    .await;
}

#[tokio::test]
async fn tabs_share_one_keepalive_window() {
    // Idle 60 s: a 3 s refresh window.
    let window = secs(3);
    in_browser(
        Timeouts {
            idle: secs(60),
            absolute: secs(3600),
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            let first = page.client.window().await.unwrap();
            let second = page.client.new_window(false).await.unwrap().handle;
            page.client.switch_to_window(second.clone()).await.unwrap();
            page.open("/report").await;
            page.wait_for_script().await;

            // The user types in one window, then the other, back and forth.
            let start = Instant::now();
            while start.elapsed() < secs(10) {
                for tab in [&first, &second] {
                    page.client.switch_to_window(tab.clone()).await.unwrap();
                    page.type_into("details", "xy ").await;
                }
            }
            let keepalives = page.log.keepalives();
            eprintln!(
                "{} keep-alives from two tabs during {:?} of typing",
                keepalives.len(),
                start.elapsed()
            );
            assert!(keepalives.len() >= 2, "{keepalives:?}");
            let gap = shortest_gap(&keepalives).unwrap();
            // Measured where they arrive: a little jitter, where one each would come a tab
            // switch apart.
            assert!(
                gap >= window - Duration::from_millis(500),
                "one keep-alive per window for both tabs, not one each: {gap:?}"
            );
            assert!(keepalives.len() <= 5, "{keepalives:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn no_keepalive_once_the_absolute_deadline_comes_first() {
    // Idle 6 s, absolute 16 s: keep-alives help until about 10 s after log-in; from then on the
    // session ends at the absolute deadline whatever the user does. The warning comes later.
    let (idle, absolute) = (secs(6), secs(16));
    in_browser(
        Timeouts {
            idle,
            absolute,
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            let login = page.log.to("/login").last().unwrap().at;
            page.wait_for_script().await;
            // Type until the session ends; dismiss the warning ("Save my work") and go on.
            let deadline = Instant::now() + absolute + secs(5);
            let mut dismissed = None;
            while !page.location().await.starts_with("/login") {
                assert!(Instant::now() < deadline, "the session did not end");
                if dismissed.is_none() && page.dialog().await.is_some_and(|d| d.mode == "absolute")
                {
                    page.click(".session-expiry-primary").await;
                    dismissed = Some(Instant::now());
                }
                // The page may be leaving: a key that finds no field is no failure.
                if let Ok(field) = page.client.find(Locator::Css("[name=details]")).await {
                    let _ = field.send_keys("ab ").await;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            let at = page.wait_for_location("/login", secs(5)).await;
            assert_eq!(at, "/login?next=%2Freport&reason=absolute");

            let dismissed = dismissed.expect("the absolute warning was shown");
            let keepalives = page.log.keepalives();
            let last = keepalives.iter().map(|k| k.at).max().unwrap();
            eprintln!(
                "{} keep-alives, the last {:?} after log-in, the warning dismissed {:?} after it",
                keepalives.len(),
                last.duration_since(login),
                dismissed.duration_since(login),
            );
            assert!(last < dismissed, "none after the warning, typing or not");
            // Deadlines come in whole seconds: a second of slack, and another.
            assert!(
                last.duration_since(login) < absolute - idle + secs(2),
                "none once they cannot move the end: {:?}",
                last.duration_since(login)
            );
        },
    )
    .await;
}
