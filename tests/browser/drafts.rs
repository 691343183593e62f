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

#[tokio::test]
async fn signing_out_with_the_pages_own_form_forgets_the_draft() {
    in_browser(timeouts(60), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        page.type_into("title", "Not for later").await;
        page.open("/").await; // the draft stays while the user looks around
        page.wait_for_script().await;
        assert_eq!(page.drafts().await.len(), 1);

        page.click("form[action='/logout'] button").await;
        let login = page
            .wait_for_location("/login", Duration::from_secs(10))
            .await;
        assert_eq!(login, "/login");
        page.wait_for(
            "the draft to be forgotten",
            Duration::from_secs(10),
            "return !Object.keys(sessionStorage).some(k => k.startsWith('session-expiry:draft:'));",
        )
        .await;

        // Back to the form through the log-in page, as after an expiry: nothing comes back.
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        tokio::time::sleep(Duration::from_secs(1)).await; // time to restore, were it wrong
        assert_eq!(page.js(RESTORED).await, false);
        assert_eq!(field(&page, "title").await, "");
    })
    .await;
}

#[tokio::test]
async fn a_sign_out_form_forgets_drafts_even_where_the_next_page_has_no_script() {
    in_browser(timeouts(60), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.open("/drafts").await; // its log-out URL is /bye, whose answer has no script
        page.wait_for_script().await;
        page.type_into("note", "A thought").await;
        assert_eq!(page.drafts().await.len(), 1);

        // A sign-out the page itself cancels ("really sign out?") keeps the draft.
        page.js(
            "document.forms.bye.addEventListener('submit', e => e.preventDefault(), \
                 { once: true }); document.forms.bye.requestSubmit(); return true;",
        )
        .await;
        assert_eq!(page.location().await, "/drafts");
        assert_eq!(page.drafts().await.len(), 1, "cancelled: kept");

        page.click("#bye button").await;
        page.wait_for_location("/bye", Duration::from_secs(10))
            .await;
        assert!(page.text().await.contains("Signed out"));
        assert!(page.drafts().await.is_empty(), "{:?}", page.drafts().await);
    })
    .await;
}

#[tokio::test]
async fn the_login_page_keeps_drafts_for_a_reason_and_forgets_them_without_one() {
    in_browser(timeouts(60), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        page.type_into("title", "Keep me").await;

        // Sent to sign in again (the server's redirect for an expired page), with a wrong
        // password first: the draft waits through both, then comes back.
        page.open("/login?next=%2Freport&reason=idle").await;
        page.wait_for_script().await;
        let drafts = page.drafts().await;
        assert!(
            drafts.len() == 1 && drafts[0].1.contains(r#""restore":"relogin""#),
            "kept for the re-login: {drafts:?}"
        );
        let form = page.client.form(Locator::Css("form")).await.unwrap();
        form.set_by_name("username", "alice").await.unwrap();
        form.set_by_name("password", "wrong").await.unwrap();
        page.click("form button").await;
        page.wait_for(
            "the refusal",
            Duration::from_secs(10),
            "return document.body.innerText.includes('wrong password');",
        )
        .await;
        page.wait_for_script().await;
        assert_eq!(page.drafts().await.len(), 1, "a failed attempt keeps it");
        page.sign_in("alice").await;
        assert_eq!(page.location().await, "/report");
        page.wait_for("the draft to come back", Duration::from_secs(10), RESTORED)
            .await;
        assert_eq!(field(&page, "title").await, "Keep me");

        // The log-in page opened by choice, without a reason, forgets drafts.
        page.type_into("title", " again").await;
        assert_eq!(page.drafts().await.len(), 1);
        page.open("/login").await;
        page.wait_for_script().await;
        assert!(page.drafts().await.is_empty(), "{:?}", page.drafts().await);
    })
    .await;
}

#[tokio::test]
async fn drafts_survive_confirming_the_password_and_come_back_after_it() {
    in_browser(timeouts(60), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.wait_for_script().await;
        page.type_into("title", "Quarterly numbers").await;
        page.type_into("details", "Revenue up.").await;

        // Sending the report now wants a password confirmed in the last second: the server
        // sends the browser to the demo's `/confirm`, the session staying alive.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        page.js("document.forms.report.action = '/stepup'; \
                 document.forms.report.requestSubmit(); return true;")
            .await;
        let confirm = page
            .wait_for_location("/confirm", Duration::from_secs(10))
            .await;
        assert_eq!(confirm, "/confirm?next=/stepup");
        page.wait_for_script().await;
        page.wait_for(
            "the draft to be kept for the way back",
            Duration::from_secs(5),
            r#"return Object.values(sessionStorage).some(d => d.includes('"restore":"reauth"'));"#,
        )
        .await;

        page.type_into("password", "password").await;
        page.click("main form button").await;
        page.wait_for_location("/report", Duration::from_secs(10))
            .await;
        page.wait_for("the draft to come back", Duration::from_secs(10), RESTORED)
            .await;
        assert_eq!(field(&page, "title").await, "Quarterly numbers");
        assert_eq!(field(&page, "details").await, "Revenue up.");
        assert!(page
            .text()
            .await
            .contains("We restored what you had typed before you confirmed your password."));
        assert!(page.drafts().await.is_empty(), "restored, then cleared");
    })
    .await;
}
