//! Every text in the page's language: English, German and French built in, chosen from
//! `<html lang>`, times formatted by `Intl`, and any text replaced by the page's own.

use std::time::Duration;

use crate::{app::Timeouts, browser::in_browser, warning::save_screenshot};

const HOUR: Duration = Duration::from_secs(3600);
const REASONS: [&str; 6] = [
    "idle",
    "absolute",
    "revoked",
    "evicted",
    "invalid",
    "credentials_changed",
];

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// An idle warning a few seconds after each page load.
fn soon_idle() -> Timeouts {
    Timeouts {
        idle: secs(6),
        absolute: HOUR,
        warn: secs(3),
    }
}

#[tokio::test]
async fn a_german_page_warns_in_german_and_its_login_page_says_why_in_german() {
    in_browser(soon_idle(), |page| async move {
        page.open("/de").await;
        let login = page.wait_for_location("/login", secs(10)).await;
        assert_eq!(login, "/login?lang=de&next=/de");
        assert_eq!(page.js("return document.documentElement.lang;").await, "de");
        page.sign_in("alice").await;
        assert_eq!(page.location().await, "/de");
        page.wait_for_script().await;
        page.type_into("title", "Messe in Köln").await;
        page.type_into("details", "Tag 1: Anreise, Aufbau des Standes.")
            .await;

        let dialog = page.wait_for_dialog(secs(10)).await;
        assert_eq!(dialog.title, "Sind Sie noch da?");
        assert_eq!(dialog.buttons, ["Angemeldet bleiben", "Abmelden"]);
        assert!(
            dialog.countdown.starts_with("Verbleibende Zeit: 0:0"),
            "{dialog:?}"
        );
        let message = page
            .js("return document.querySelector('#session-expiry-message').textContent;")
            .await;
        assert_eq!(
            message,
            "Zu Ihrer Sicherheit werden Sie wegen Inaktivität bald abgemeldet."
        );
        let png = page.client.screenshot().await.unwrap();
        save_screenshot("warning-dialog-de.png", &png);

        let login = page.wait_for_location("/login", secs(12)).await;
        assert_eq!(login, "/login?lang=de&next=%2Fde&reason=idle");
        let text = page.text().await;
        assert!(
            text.contains("Sie wurden nach einer Zeit der Inaktivität abgemeldet."),
            "{text}"
        );
        assert!(
            !text.contains("inactivity"),
            "the English notice was replaced: {text}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_end_of_a_session_is_told_in_french_with_french_times() {
    in_browser(
        Timeouts {
            idle: HOUR,
            absolute: secs(10),
            warn: secs(8),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.open("/texts").await; // <html lang="fr">
            let dialog = page.wait_for_dialog(secs(10)).await;
            assert_eq!(dialog.mode, "absolute");
            assert_eq!(
                dialog.buttons,
                ["Enregistrer mon travail", "Se déconnecter"]
            );
            assert!(
                dialog.countdown.starts_with("Temps restant\u{a0}: 0:0"),
                "{dialog:?}"
            );
            // A time of day the French way: 14:05, no AM/PM.
            let at = dialog
                .title
                .strip_prefix("Votre session se termine à ")
                .unwrap_or_else(|| panic!("{dialog:?}"));
            let shape: String = at
                .chars()
                .map(|c| if c.is_ascii_digit() { '0' } else { c })
                .collect();
            assert_eq!(shape, "00:00", "{at}");
            let message = page
                .js("return document.querySelector('#session-expiry-message').textContent;")
                .await;
            let message = message.as_str().unwrap();
            assert!(
                message.contains("se termine dans ") && message.contains(" secondes"),
                "Intl.RelativeTimeFormat in French: {message}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_json_block_replaces_texts_per_language_or_for_the_whole_page() {
    in_browser(soon_idle(), |page| async move {
        page.sign_in_to("alice", "/report").await;

        // {"fr": {"idle.title": …}, "de": {…}} on a French page: its French title, the
        // other texts built in.
        page.open("/texts").await;
        let dialog = page.wait_for_dialog(secs(10)).await;
        assert_eq!(dialog.title, "Encore là ?");
        assert_eq!(dialog.buttons, ["Rester connecté", "Se déconnecter"]);

        // One flat set on a Spanish page (no texts built in): those, and English for the rest.
        page.open("/texts?lang=es&block=flat").await;
        let dialog = page.wait_for_dialog(secs(10)).await;
        assert_eq!(dialog.title, "Still with us?");
        assert_eq!(dialog.buttons, ["Stay signed in", "Leave"]);
    })
    .await;
}

#[tokio::test]
async fn a_page_in_a_language_without_texts_gets_english_marked_as_english() {
    in_browser(soon_idle(), |page| async move {
        page.sign_in_to("alice", "/report").await;
        page.open("/notice?lang=es&reason=idle").await; // <html lang="es">, no texts block
        let dialog = page.wait_for_dialog(secs(10)).await;
        assert_eq!(dialog.title, "Are you still there?");
        let lang = page
            .js("return document.querySelector('.session-expiry-backdrop').lang;")
            .await;
        assert_eq!(lang, "en", "screen readers read it as English");
    })
    .await;
}

#[tokio::test]
async fn every_reason_has_its_own_text_in_english_german_and_french() {
    in_browser(soon_idle(), |page| async move {
        let mut english = Vec::new();
        for lang in ["en", "de", "fr"] {
            let mut texts = Vec::new();
            for reason in REASONS {
                page.open(&format!("/notice?lang={lang}&reason={reason}"))
                    .await;
                let text = page
                    .wait_for(
                        "the notice in the page's language",
                        secs(5),
                        "const p = document.querySelector('[data-session-expiry-reason]'); \
                         return p.textContent !== 'server text' && p.textContent;",
                    )
                    .await;
                texts.push(text.as_str().unwrap().to_owned());
            }
            let mut distinct = texts.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), REASONS.len(), "{lang}: {texts:?}");
            if lang == "en" {
                assert!(texts[3].contains("too many devices"), "{texts:?}");
                english = texts;
            } else {
                for (text, en) in texts.iter().zip(&english) {
                    assert_ne!(text, en, "{lang} is translated");
                }
            }
        }
        // A reason the script does not know keeps the server's text.
        page.open("/notice?lang=en&reason=nap").await;
        page.wait_for_script().await;
        assert!(page.text().await.contains("server text"));
    })
    .await;
}
