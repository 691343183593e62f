//! The warning before a session ends: when it appears, what it says, and what its buttons and
//! keys do.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use fantoccini::key::Key;

use crate::{app::Timeouts, browser::in_browser};

const HOUR: Duration = Duration::from_secs(3600);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn the_warning_appears_before_the_deadline_with_a_live_countdown() {
    in_browser(
        Timeouts {
            idle: secs(6),
            absolute: HOUR,
            warn: secs(3),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            let loaded = Instant::now(); // loading the form was the last activity
            page.wait_for_script().await;
            page.type_into("title", "Conference in Lyon").await;
            page.type_into("destination", "Lyon").await;
            assert!(page.dialog().await.is_none(), "no warning this early");

            let dialog = page.wait_for_dialog(secs(10)).await;
            let shown_after = loaded.elapsed();
            let status = page.server_status().await;
            assert_eq!(status.status, 200, "still signed in: {status:?}");
            let idle_left = status.body["idle_remaining_secs"].as_u64().unwrap();
            assert!(
                idle_left <= 3,
                "shown within the warning window: {idle_left}s left"
            );
            assert!(shown_after >= secs(2), "not before it: {shown_after:?}");
            assert_eq!(dialog.role, "alertdialog");
            assert_eq!(dialog.mode, "idle");
            assert_eq!(dialog.buttons, ["Stay signed in", "Sign out"]);
            assert_eq!(
                dialog.focused, "Stay signed in",
                "focus moves into the dialog"
            );
            assert!(dialog.countdown.starts_with("Time left: 0:0"), "{dialog:?}");

            let png = page.client.screenshot().await.unwrap();
            save_screenshot("warning-dialog.png", &png);

            let first = dialog.countdown;
            let ticking = format!(
                "const t = document.querySelector('[role=timer]'); \
             return t && t.textContent !== {first:?} && t.textContent;"
            );
            page.wait_for("the countdown to move", secs(3), &ticking)
                .await;
        },
    )
    .await;
}

/// Keeps the picture in the target directory, and in `docs/` for the README when
/// `UPDATE_SCREENSHOTS` is set.
pub fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join(name), png).unwrap();
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), png).unwrap();
    }
}

#[tokio::test]
async fn stay_signed_in_keeps_the_session_and_the_server_agrees() {
    let idle = secs(6);
    in_browser(
        Timeouts {
            idle,
            absolute: HOUR,
            warn: secs(4),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            let loaded = Instant::now();
            page.wait_for_script().await;
            page.type_into("details", "Half a thought").await;

            page.wait_for_dialog(secs(10)).await;
            let before = page.server_status().await.body["idle_remaining_secs"]
                .as_u64()
                .unwrap();
            page.press(Key::Enter).await; // on "Stay signed in", which has the focus
            page.wait_for_no_dialog(secs(5)).await;
            let after = page.server_status().await;
            assert_eq!(after.status, 200, "{after:?}");
            let after = after.body["idle_remaining_secs"].as_u64().unwrap();
            assert!(
                after > before,
                "keep-alive moved the deadline: {before}s → {after}s"
            );
            let focused = page.js("return document.activeElement.name;").await;
            assert_eq!(focused, "details", "focus went back where the user was");

            // Escape is "stay signed in" too.
            page.wait_for_dialog(secs(10)).await;
            page.press(Key::Escape).await;
            page.wait_for_no_dialog(secs(5)).await;

            // Well past the first deadline, still on the form and still signed in.
            let past_deadline = idle + secs(1);
            if let Some(rest) = past_deadline.checked_sub(loaded.elapsed()) {
                tokio::time::sleep(rest).await;
            }
            assert_eq!(page.location().await, "/report");
            let status = page.server_status().await;
            assert_eq!(status.status, 200, "{status:?}");
            assert_eq!(status.body["user"], "alice");
            assert_eq!(
                page.js("return document.forms.report.details.value;").await,
                "Half a thought"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn sign_out_in_the_warning_ends_the_session() {
    in_browser(
        Timeouts {
            idle: secs(6),
            absolute: HOUR,
            warn: secs(5),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            page.type_into("title", "Never mind").await;
            assert_eq!(page.drafts().await.len(), 1);
            page.wait_for_dialog(secs(10)).await;
            page.click(".session-expiry-secondary").await;
            assert_eq!(
                page.wait_for_location("/login", secs(10)).await,
                "/login",
                "a chosen sign-out is no expiry: no reason, no way back"
            );
            let status = page.server_status().await;
            assert_eq!(status.status, 401, "{status:?}");
            assert_eq!(status.body["error"], "unauthenticated");
            assert!(
                page.drafts().await.is_empty(),
                "a sign-out by choice forgets the draft"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn near_the_absolute_deadline_the_dialog_offers_to_save_instead_of_extending() {
    in_browser(
        Timeouts {
            idle: HOUR,
            absolute: secs(5),
            warn: secs(3),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            page.type_into("title", "Budget 2026").await;

            let dialog = page.wait_for_dialog(secs(10)).await;
            assert_eq!(dialog.mode, "absolute");
            assert!(
                dialog.title.starts_with("Your session ends at "),
                "{dialog:?}"
            );
            // Intl in English: a 12-hour clock, and "in N seconds".
            assert!(
                dialog.title.ends_with("AM") || dialog.title.ends_with("PM"),
                "{dialog:?}"
            );
            let message = page
                .js("return document.querySelector('#session-expiry-message').textContent;")
                .await;
            assert!(
                message.as_str().unwrap().contains("this one ends in ")
                    && message.as_str().unwrap().contains(" seconds;"),
                "{message}"
            );
            assert_eq!(dialog.buttons, ["Save my work", "Sign out"]);
            page.press(Key::Enter).await; // "Save my work"
            page.wait_for_no_dialog(secs(5)).await;
            let drafts = page.drafts().await;
            assert!(
                drafts.len() == 1 && drafts[0].1.contains("Budget 2026"),
                "saved: {drafts:?}"
            );

            let login = page.wait_for_location("/login", secs(12)).await;
            assert_eq!(login, "/login?next=%2Freport&reason=absolute");
            let text = page.text().await;
            assert!(text.contains("reached its maximum length"), "{text}");
        },
    )
    .await;
}
