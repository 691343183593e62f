//! The browser script and style sheet as the server serves them, and the demo pages that use
//! them. (What the script does is tested in a real browser: `tests/browser`.)

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App,
};
use session_expiry::MockClock;

use crate::{
    demo,
    support::{app, expiry, session_middleware, Client, MINUTE},
};

const ASSETS: [(&str, &str, &str); 2] = [
    (
        "/session/expiry.js",
        "text/javascript; charset=utf-8",
        "BroadcastChannel",
    ),
    (
        "/session/expiry.css",
        "text/css; charset=utf-8",
        ".session-expiry-dialog",
    ),
];

#[actix_web::test]
async fn the_script_and_its_style_sheet_are_served_cacheable_with_an_etag() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    for (path, content_type, marker) in ASSETS {
        let answer = client.send(TestRequest::get().uri(path)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.header("content-type"), Some(content_type), "{path}");
        assert_eq!(answer.header("cache-control"), Some("public, no-cache"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        let etag = answer.header("etag").unwrap();
        assert!(etag.len() == 18 && etag.starts_with('"') && etag.ends_with('"'));
        assert!(answer.body.contains(marker), "{path}");
        assert!(!answer.set_cookie, "no session for an anonymous visitor");
    }
}

#[actix_web::test]
async fn a_browser_that_has_the_file_gets_a_304_without_a_body() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    for (path, ..) in ASSETS {
        let first = client.send(TestRequest::get().uri(path)).await;
        let etag = first.header("etag").unwrap().to_owned();

        let again = client
            .send(
                TestRequest::get()
                    .uri(path)
                    .insert_header((header::IF_NONE_MATCH, etag.as_str())),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert!(again.body.is_empty());

        let stale = client
            .send(
                TestRequest::get()
                    .uri(path)
                    .insert_header((header::IF_NONE_MATCH, "\"0123456789abcdef\"")),
            )
            .await;
        assert_eq!(stale.status, StatusCode::OK, "{path}");
        assert_eq!(stale.body, first.body);
    }
}

#[actix_web::test]
async fn head_gets_the_headers_and_other_methods_are_refused() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    let head = client
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/session/expiry.js"),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.header("etag").is_some());
    let post = client
        .send(TestRequest::post().uri("/session/expiry.js"))
        .await;
    assert!(post.status.is_client_error(), "{post:?}");
}

#[actix_web::test]
async fn loading_the_script_is_not_activity() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    client.login().await;
    let seen = client.stored_state().await.unwrap().seen_after_login_ms();

    clock.advance(10 * MINUTE); // several refresh windows
    for (path, ..) in ASSETS {
        let answer = client.send(TestRequest::get().uri(path)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(!answer.set_cookie, "{path} wrote the session");
    }
    assert_eq!(
        client.stored_state().await.unwrap().seen_after_login_ms(),
        seen
    );
}

#[actix_web::test]
async fn the_files_are_served_even_without_the_middleware() {
    let app = test::init_service(App::new().service(session_expiry::web::scope("/s"))).await;
    let answer =
        test::call_service(&app, TestRequest::get().uri("/s/expiry.js").to_request()).await;
    assert_eq!(answer.status(), StatusCode::OK);
}

#[actix_web::test]
async fn the_demo_pages_load_the_script_and_mark_the_long_form() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(demo::routes)
                .app_data(web::Data::new(demo::Warning { before: 2 * MINUTE }))
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    let form = client.send(TestRequest::get().uri("/report")).await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "signed-in users only");
    assert_eq!(form.header("location"), Some("/login?next=/report"));

    let login = client
        .send(TestRequest::post().uri("/login").set_form([
            ("username", "alice"),
            ("password", "password"),
            ("next", "/report"),
        ]))
        .await;
    assert_eq!(login.header("location"), Some("/report"));

    let tag = "<script src=\"/session/expiry.js\" defer data-login-url=\"/login\" \
               data-logout-url=\"/logout\" data-reauth-url=\"/confirm\" \
               data-activity=\"input\" data-warn-seconds=\"120\"></script>";
    let home = client.send(TestRequest::get().uri("/")).await;
    assert!(home.body.contains(tag), "{}", home.body);
    assert!(home.body.contains("href=\"/report\""));

    let form = client.send(TestRequest::get().uri("/report")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(tag));
    for part in [
        "data-session-expiry-preserve",
        "type=\"password\"",
        "type=\"file\"",
        "type=\"hidden\"",
        "data-session-expiry-skip",
        "<textarea name=\"details\"",
    ] {
        assert!(form.body.contains(part), "{part}: {}", form.body);
    }

    let sent = client
        .send(
            TestRequest::post()
                .uri("/report")
                .set_form([("title", "Lyon <3"), ("details", "…")]),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(
        sent.body.contains("“Lyon &lt;3” is on its way"),
        "{}",
        sent.body
    );
}

#[actix_web::test]
async fn the_demo_serves_a_german_page_and_a_german_login_page_with_the_script() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    let away = client.send(TestRequest::get().uri("/de")).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER, "signed-in users only");
    assert_eq!(away.header("location"), Some("/login?lang=de&next=/de"));

    // The log-in page loads the script too (it settles drafts there and puts the notice in
    // the page's language), and marks the notice with its reason.
    let login = client
        .send(TestRequest::get().uri("/login?lang=de&next=/de&reason=evicted"))
        .await;
    assert!(login.body.starts_with("<!doctype html><html lang=\"de\">"));
    assert!(login.body.contains("<h1>Anmelden</h1>"), "{}", login.body);
    assert!(login
        .body
        .contains("data-session-expiry-reason=\"evicted\""));
    assert!(
        login.body.contains("too many devices"),
        "English without JavaScript"
    );
    assert!(login
        .body
        .contains("<script src=\"/session/expiry.js\" defer data-login-url=\"/login?lang=de\""));
    let unknown = client
        .send(TestRequest::get().uri("/login?reason=nap"))
        .await;
    assert!(!unknown.body.contains("data-session-expiry-reason"));

    let signed_in = client
        .send(TestRequest::post().uri("/login").set_form([
            ("username", "alice"),
            ("password", "password"),
            ("next", "/de"),
            ("lang", "de"),
        ]))
        .await;
    assert_eq!(signed_in.header("location"), Some("/de"));
    let page = client.send(TestRequest::get().uri("/de")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.starts_with("<!doctype html><html lang=\"de\">"));
    assert!(page.body.contains("<h1>Hallo, alice</h1>"));
    assert!(page.body.contains("data-session-expiry-preserve"));
    assert!(page.body.contains("data-login-url=\"/login?lang=de\""));

    let sent = client
        .send(
            TestRequest::post()
                .uri("/report")
                .set_form([("title", "Messe"), ("lang", "de")]),
        )
        .await;
    assert!(sent.body.contains("„Messe“ ist unterwegs"), "{}", sent.body);
}

#[actix_web::test]
async fn a_failed_sign_in_answers_401_with_the_form_in_the_pages_language() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    let refused = client
        .send(TestRequest::post().uri("/login").set_form([
            ("username", "alice"),
            ("password", "nope"),
            ("next", "/de"),
            ("lang", "de"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused
        .body
        .contains("Unbekannter Benutzer oder falsches Passwort."));
    assert!(refused.body.contains("name=\"next\" value=\"/de\""));
    assert!(refused.body.contains("/session/expiry.js"));
}
