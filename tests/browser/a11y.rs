//! Accessibility checked, not assumed: axe-core (vendored in `assets/`, see its README) finds
//! nothing wrong with the pages while the warning is open, in English and in German, nor with
//! the log-in page that says why a session ended.

use std::time::Duration;

use crate::{app::Timeouts, browser::in_browser, page::Page};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Runs axe-core and fails on any violation; `checked` are rules that must have passed, so
/// that a run that looked at nothing cannot pass.
async fn assert_no_violations(page: &Page, what: &str, checked: &[&str]) {
    let axe = page.axe().await;
    assert!(
        axe.violations.is_empty(),
        "axe-core found violations on {what}:\n{}",
        serde_json::to_string_pretty(&axe.violations).unwrap()
    );
    for rule in checked {
        assert!(
            axe.passes.iter().any(|id| id == rule),
            "{rule} was not checked on {what}: {:?}",
            axe.passes
        );
    }
    eprintln!(
        "axe-core: no violations on {what}, {} rules passed",
        axe.passes.len()
    );
}

/// Rules about the open dialog: its name, its ARIA, the contrast of its text and buttons.
const DIALOG_RULES: &[&str] = &[
    "aria-dialog-name",
    "aria-allowed-attr",
    "aria-roles",
    "button-name",
    "color-contrast",
    "html-lang-valid",
];

#[tokio::test]
async fn the_open_warning_passes_axe_in_english_and_german() {
    in_browser(
        // The warning 10 s after each page load (half the idle timeout), and 10 s more before
        // the session ends: time enough for axe-core on a busy machine.
        Timeouts {
            idle: secs(20),
            absolute: Duration::from_secs(3600),
            warn: secs(15),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            let dialog = page.wait_for_dialog(secs(15)).await;
            assert_eq!(dialog.mode, "idle");
            assert_no_violations(
                &page,
                "the English report page with the warning open",
                DIALOG_RULES,
            )
            .await;

            page.open("/de").await;
            let dialog = page.wait_for_dialog(secs(15)).await;
            assert_eq!(dialog.title, "Sind Sie noch da?");
            assert_no_violations(&page, "the German page with the warning open", DIALOG_RULES)
                .await;
        },
    )
    .await;
}

#[tokio::test]
async fn the_absolute_warning_and_the_login_notice_pass_axe() {
    in_browser(
        Timeouts {
            idle: Duration::from_secs(3600),
            absolute: secs(12),
            warn: secs(10),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            let dialog = page.wait_for_dialog(secs(10)).await;
            assert_eq!(dialog.mode, "absolute");
            assert_no_violations(
                &page,
                "the report page with the absolute warning open",
                DIALOG_RULES,
            )
            .await;

            page.open("/login?lang=de&next=%2Fde&reason=evicted").await;
            page.wait_for_script().await;
            assert!(page.text().await.contains("zu vielen Geräten"));
            assert_no_violations(
                &page,
                "the German log-in page with its notice",
                &["color-contrast", "label", "html-lang-valid"],
            )
            .await;
        },
    )
    .await;
}
