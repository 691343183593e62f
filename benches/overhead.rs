//! What session-expiry adds to a signed-in request, next to bare actix-session and to
//! actix-identity's deadlines, all on the cookie store, in-process through actix-web's test
//! service. Run with `cargo bench --bench overhead`.
//!
//! "not due": a request well inside the refresh granularity (nothing to write).
//! "due": a request whose last-seen is older than the granularity (the session is written).

use std::time::Duration;

use actix_http::Request;
use actix_identity::{Identity, IdentityMiddleware};
use actix_session::{storage::CookieSessionStore, Session, SessionMiddleware};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
    rt::{System, SystemRunner},
    test::{self, TestRequest},
    web, App, HttpMessage as _, HttpRequest, HttpResponse,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use session_expiry::{Expiry, MockClock, SessionExpiry};

const IDLE: Duration = Duration::from_secs(30 * 60);

fn session_middleware() -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), Key::from(&[7; 64]))
        .cookie_secure(false)
        .build()
}

/// Runs `login` once and returns the session cookie it set.
async fn sign_in<S, B>(app: &S) -> Cookie<'static>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, TestRequest::post().uri("/login").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == "id")
        .expect("login sets the session cookie")
        .into_owned();
    cookie
}

/// Benches `GET /` with `cookie` on `app`, inside `system`.
fn bench_requests<S, B>(
    c: &mut Criterion,
    name: &str,
    system: &SystemRunner,
    app: &S,
    cookie: &Cookie<'static>,
) where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    c.bench_function(name, |b| {
        b.iter_batched(
            || {
                TestRequest::get()
                    .uri("/")
                    .cookie(cookie.clone())
                    .to_request()
            },
            |req| {
                system.block_on(async {
                    let res = app.call(req).await.expect("the request succeeds");
                    assert!(res.status().is_success());
                    res
                })
            },
            BatchSize::SmallInput,
        )
    });
}

/// What session-expiry keeps for `alice` under this bench's policy
/// (`2.alice.<log-in>.0.12kw0...0..2s`) is 32 bytes under the 3-byte key `_se`: a user id of 31
/// bytes under `user` makes a bare cookie of the same length (100 characters both), so that
/// "sized like the state" minus bare is what carrying the state costs, and session-expiry minus
/// "sized like the state" what the middleware computes.
const SIZED_USER: &str = "alicexxxxxxxxxxxxxxxxxxxxxxxxxx";

fn bare(c: &mut Criterion) {
    for (name, user) in [
        ("bare actix-session", "alice"),
        ("bare actix-session, sized like the state", SIZED_USER),
    ] {
        bare_with(c, name, user);
    }
}

/// Bare actix-session, the session holding `user` under `user`.
fn bare_with(c: &mut Criterion, name: &str, user: &'static str) {
    let system = System::new();
    let app = system.block_on(test::init_service(
        App::new()
            .route(
                "/login",
                web::post().to(move |session: Session| async move {
                    session.insert("user", user)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
                }),
            )
            .route(
                "/",
                web::get().to(|session: Session| async move {
                    let user = session.get::<String>("user")?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(user.unwrap_or_default()))
                }),
            )
            .wrap(session_middleware()),
    ));
    let cookie = system.block_on(sign_in(&app));
    bench_requests(c, name, &system, &app, &cookie);
}

fn expiry(c: &mut Criterion) {
    for due in [false, true] {
        let system = System::new();
        let clock = MockClock::new();
        let app = system.block_on(test::init_service(
            App::new()
                .route(
                    "/login",
                    web::post().to(|expiry: Expiry| async move {
                        expiry.login("alice")?;
                        Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
                    }),
                )
                .route(
                    "/",
                    web::get().to(|expiry: Expiry| async move {
                        HttpResponse::Ok().body(expiry.user().unwrap_or_default())
                    }),
                )
                .wrap(
                    SessionExpiry::builder()
                        .idle_timeout(IDLE)
                        .absolute_timeout(Duration::from_secs(8 * 3600))
                        .clock(clock.clone())
                        .build(),
                )
                .wrap(session_middleware()),
        ));
        let cookie = system.block_on(sign_in(&app));
        // Every request reuses the log-in cookie: with the clock two minutes on, each one finds
        // last-seen older than the 60 s granularity and writes; otherwise none does.
        if due {
            clock.advance(Duration::from_secs(120));
        }
        let name = if due {
            "session-expiry, refresh due"
        } else {
            "session-expiry, refresh not due"
        };
        bench_requests(c, name, &system, &app, &cookie);
    }
}

fn identity(c: &mut Criterion) {
    for visits in [false, true] {
        identity_with(c, visits);
    }
}

/// actix-identity with a login deadline, and with `visits` a visit deadline too.
fn identity_with(c: &mut Criterion, visits: bool) {
    let system = System::new();
    let app = system.block_on(test::init_service(
        App::new()
            .route(
                "/login",
                web::post().to(|req: HttpRequest| async move {
                    Identity::login(&req.extensions(), "alice".to_owned())?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
                }),
            )
            .route(
                "/",
                web::get().to(|identity: Identity| async move {
                    HttpResponse::Ok().body(identity.id().unwrap_or_default())
                }),
            )
            .wrap(
                IdentityMiddleware::builder()
                    .login_deadline(Some(Duration::from_secs(8 * 3600)))
                    .visit_deadline(visits.then_some(IDLE))
                    .build(),
            )
            .wrap(session_middleware()),
    ));
    let cookie = system.block_on(sign_in(&app));
    let name = if visits {
        "actix-identity, login + visit deadlines"
    } else {
        "actix-identity, login deadline"
    };
    bench_requests(c, name, &system, &app, &cookie);
}

fn state_decode(c: &mut Criterion) {
    let now = chrono::DateTime::from_timestamp(1_735_689_600, 0).expect("a valid instant");
    // alice@example.com, as actix-session keeps it: a JSON string.
    let raw = r#""2.alice@example%2Ecom.m5d4ezpc.apsw.1daow.12kw0.h5a80.0..2s""#;
    assert!(session_expiry::__private::decode_state(raw, now));
    c.bench_function("state decode", |b| {
        b.iter(|| session_expiry::__private::decode_state(std::hint::black_box(raw), now))
    });
}

criterion_group!(benches, bare, expiry, identity, state_decode);
criterion_main!(benches);
