//! Drafts of a marked form survive a forced re-login, for the same user only.

use std::time::Duration;

use fantoccini::Locator;

use crate::{app::Timeouts, browser::in_browser, page::Page};

/// Long enough to fill in the form before the warning covers it.
fn timeouts(idle_secs: u64) -> Timeouts {
    Timeouts {
        idle: Duration::from_secs(idle_secs),
        absolute: Duration::from_secs(3600),
        warn: Duration::from_secs(1),
    }
}

/// Whether the script restored a draft into the form.
const RESTORED: &str = "return document.forms.report.hasAttribute('data-session-expiry-restored');";

async fn field(page: &Page, name: &str) -> serde_json::Value {
    page.js(&format!(
        "const f = document.forms.report.elements[{name:?}]; \
         return f.type === 'checkbox' ? f.checked : f.value;"
    ))
    .await
}

#[tokio::test]
async fn a_half_typed_form_is_restored_after_signing_in_again() {
    in_browser(timeouts(5), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        page.type_into("title", "Offsite in Lyon").await;
        page.type_into("details", "Day one: train.\nDay two: talks.")
            .await;
        let purpose = page
            .client
            .find(Locator::Css("[name=purpose]"))
            .await
            .unwrap();
        purpose.select_by_value("conference").await.unwrap();
        page.click("[name=paid_with][value=own]").await;
        page.click("[name=receipts]").await;
        page.type_into("card_pin", "4321").await;
        page.type_into("password", "hunter2").await;

        let login = page
            .wait_for_location("/login", Duration::from_secs(12))
            .await;
        assert_eq!(login, "/login?next=%2Freport&reason=idle");
        let drafts = page.drafts().await;
        assert_eq!(drafts.len(), 1, "{drafts:?}");
        let draft = &drafts[0].1;
        assert!(draft.contains("Offsite in Lyon"), "{draft}");
        for secret in ["4321", "hunter2", "form_token", "card_pin", "password"] {
            assert!(
                !draft.contains(secret),
                "{secret} must not be kept: {draft}"
            );
        }

        page.sign_in("alice").await;
        assert_eq!(page.location().await, "/report");
        page.wait_for("the draft to come back", Duration::from_secs(10), RESTORED)
            .await;
        assert_eq!(field(&page, "title").await, "Offsite in Lyon");
        assert_eq!(
            field(&page, "details").await,
            "Day one: train.\nDay two: talks."
        );
        assert_eq!(field(&page, "purpose").await, "conference");
        assert_eq!(field(&page, "paid_with").await, "own");
        assert_eq!(field(&page, "receipts").await, true);
        assert_eq!(field(&page, "card_pin").await, "");
        assert_eq!(field(&page, "password").await, "");
        assert!(page.text().await.contains("We restored what you had typed"));
        assert!(page.drafts().await.is_empty(), "restored, then cleared");
    })
    .await;
}

#[tokio::test]
async fn another_user_signing_in_never_sees_the_draft() {
    in_browser(timeouts(4), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        page.type_into("title", "Alice's secret plan").await;
        page.wait_for_location("/login", Duration::from_secs(12))
            .await;
        assert_eq!(
            page.drafts().await.len(),
            1,
            "alice's draft is kept for her"
        );

        page.sign_in("bob").await;
        assert_eq!(page.location().await, "/report");
        page.wait_for(
            "alice's draft to be dropped",
            Duration::from_secs(10),
            "return Object.keys(sessionStorage).length === 0;",
        )
        .await;
        assert_eq!(field(&page, "title").await, "");
        assert!(!page.text().await.contains("We restored"));
        let restored = page.js(RESTORED).await;
        assert_eq!(restored, false);
    })
    .await;
}
