//! The demo application shared by the examples: log-in, a protected page, a long form whose
//! draft survives a forced re-login, a page in German, log-out and the crate's status endpoints
//! and browser script. Each example only chooses the session store.

use std::{collections::HashMap, env, io, time::Duration};

use actix_session::{config::PersistentSession, storage::SessionStore, SessionMiddleware};
use actix_web::{
    cookie::{time::Duration as CookieDuration, Key},
    get,
    http::header::{self, ContentType},
    post, web, Either, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use session_expiry::{
    config::SessionExpiryBuilder, fresh_auth, same_origin::SameOrigin, web::same_site_path,
    web::wants_json, Expiry, Policy, RememberMeCookie, SignedIn,
};

/// Logs to stdout at `RUST_LOG` (default: info), in colour only on a terminal, so that a log
/// file gets plain text.
pub fn init_logging() {
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::stdout().is_terminal())
        .init();
}

mod accounts;
pub mod live;

pub use self::accounts::Accounts;

/// Where to listen and how long sessions last, from the environment.
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub idle: Duration,
    pub absolute: Duration,
    /// The accounts the stamp lookup reads: register the same as app data.
    pub accounts: Accounts,
}

impl Settings {
    /// `HOST` (127.0.0.1), `PORT` (8080), `IDLE_TIMEOUT_SECS` (1800),
    /// `ABSOLUTE_TIMEOUT_SECS` (432000).
    pub fn from_env() -> io::Result<Self> {
        Ok(Self {
            host: env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into()),
            port: number("PORT", 8080)?,
            idle: Duration::from_secs(number("IDLE_TIMEOUT_SECS", 1800)?),
            absolute: Duration::from_secs(number("ABSOLUTE_TIMEOUT_SECS", 432_000)?),
            accounts: Accounts::default(),
        })
    }

    /// The middleware configuration the demo uses: "keep me signed in" gives 30 days without
    /// an idle limit (NIST AAL1) to users without a role of their own.
    pub fn expiry(&self) -> SessionExpiryBuilder {
        let accounts = self.accounts.clone();
        session_expiry::SessionExpiry::builder()
            .idle_timeout(self.idle)
            .absolute_timeout(self.absolute)
            .remember_me_policy(Policy::nist_aal1())
            .login_path("/login")
            .reauth_path("/confirm")
            // The default, said out loud: another site's pages (a sibling subdomain's too) are
            // served but cannot keep an unattended session alive.
            .activity_from_same_origin_only(true)
            // A password change with "sign out my other devices" changes the stamp.
            .security_stamp(move |user: String, _req: HttpRequest| {
                let accounts = accounts.clone();
                async move { Ok::<_, io::Error>(accounts.stamp(&user).await?.map(u64::to_be_bytes)) }
            })
    }
}

/// How long before a session ends the pages' script warns; optional app data (pages warn a
/// minute ahead without it).
#[derive(Debug, Clone, Copy)]
pub struct Warning {
    pub before: Duration,
}

impl Warning {
    /// `WARN_BEFORE_SECS` (60).
    pub fn from_env() -> io::Result<Self> {
        Ok(Self {
            before: Duration::from_secs(number("WARN_BEFORE_SECS", 60)?),
        })
    }
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> io::Result<T> {
    match env::var(name) {
        Err(_) => Ok(default),
        Ok(raw) => raw.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} must be a whole number, got {raw:?}"),
            )
        }),
    }
}

/// The session middleware every example wraps around the app, on `store`; wrap
/// [`RememberMeCookie`] outside it.
pub fn sessions<S: SessionStore>(store: S, key: Key) -> SessionMiddleware<S> {
    SessionMiddleware::builder(store, key)
        // Only so the demo works over plain http on localhost: a real deployment serves https,
        // keeps the default `Secure` cookie and names it `__Host-id`, which no subdomain can
        // set or overwrite.
        .cookie_secure(false)
        // Long enough for "keep me signed in" (30 days); `RememberMeCookie` makes every other
        // signed-in session's cookie end with the browser, and each session's own timeouts end
        // it on the server either way.
        .session_lifecycle(PersistentSession::default().session_ttl(CookieDuration::days(30)))
        .build()
}

/// The cookie of a session signed in without "keep me signed in" ends with the browser.
pub fn remember_me_cookie() -> RememberMeCookie {
    RememberMeCookie::new()
}

/// Registers the demo's routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(login_form)
        .service(login)
        .service(home)
        .service(logout)
        .service(report_form)
        .service(report)
        .service(settings_form)
        .service(settings)
        .service(confirm_form)
        .service(confirm)
        .service(german)
        .service(password_form)
        .service(change_password)
        .configure(live::routes)
        .service(session_expiry::web::scope("/session"));
}

/// The languages of the demo's pages: English, and German for `/de` and `/login?lang=de`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    De,
}

impl Lang {
    fn from_query(lang: Option<&str>) -> Self {
        if lang == Some("de") {
            Self::De
        } else {
            Self::En
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The text in this language: `(english, german)`.
    fn pick(self, (en, de): (&'static str, &'static str)) -> &'static str {
        match self {
            Self::En => en,
            Self::De => de,
        }
    }

    /// The log-in page in this language (the browser script adds `next` and `reason`).
    fn login_url(self) -> &'static str {
        match self {
            Self::En => "/login",
            Self::De => "/login?lang=de",
        }
    }
}

#[derive(Deserialize)]
struct LoginPage {
    next: Option<String>,
    reason: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
    lang: Option<String>,
    /// "Keep me signed in": a checkbox (`on`) in the form, `true` in JSON.
    #[serde(default, deserialize_with = "checked")]
    remember: bool,
}

fn checked<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(flag) => flag,
        Flag::Text(text) => matches!(text.as_str(), "on" | "true" | "1" | "yes"),
    })
}

#[get("/login")]
async fn login_form(query: web::Query<LoginPage>) -> HttpResponse {
    let lang = Lang::from_query(query.lang.as_deref());
    let notice = query.reason.as_deref().and_then(reason_notice);
    page(
        lang,
        login_page(lang, query.next.as_deref(), notice.as_deref()),
    )
}

#[post("/login", wrap = "SameOrigin::new()")]
async fn login(
    expiry: Expiry,
    body: Either<web::Json<Credentials>, web::Form<Credentials>>,
    accounts: Option<web::Data<Accounts>>,
) -> actix_web::Result<HttpResponse> {
    let (credentials, json) = match body {
        Either::Left(json) => (json.into_inner(), true),
        Either::Right(form) => (form.into_inner(), false),
    };
    let known = accounts_of(accounts)
        .check(&credentials.username, &credentials.password)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    if !known {
        return Ok(if json {
            HttpResponse::Unauthorized().json(serde_json::json!({ "error": "invalid_credentials" }))
        } else {
            let lang = Lang::from_query(credentials.lang.as_deref());
            let notice = format!(
                "<p role=\"status\" class=\"notice\">{}</p>",
                lang.pick((
                    "Unknown user or wrong password.",
                    "Unbekannter Benutzer oder falsches Passwort."
                ))
            );
            let mut answer = page(
                lang,
                login_page(lang, credentials.next.as_deref(), Some(&notice)),
            );
            *answer.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            answer
        });
    }
    // Remember-me is the user's (or their role's) remembered policy: never beyond the role.
    if credentials.remember {
        expiry.login_remembered(credentials.username.as_str())?;
    } else {
        expiry.login(credentials.username.as_str())?;
    }
    Ok(if json {
        HttpResponse::Ok().json(serde_json::json!({ "user": credentials.username }))
    } else {
        let next = credentials
            .next
            .as_deref()
            .and_then(same_site_path)
            .unwrap_or("/");
        see_other(next)
    })
}

#[get("/")]
async fn home(req: HttpRequest, expiry: Expiry) -> HttpResponse {
    match (expiry.user(), wants_json(&req)) {
        (Some(user), true) => HttpResponse::Ok().json(serde_json::json!({ "user": user })),
        (Some(user), false) => signed_in_page(
            &req,
            Lang::En,
            format!(
                "<h1>Hello, {user}</h1>\
                 <p>Your session ends after a period of inactivity or a fixed time after log-in. \
                 <a href=\"/session/status\">How long is left?</a></p>\
                 <p><a href=\"/report\">Fill in a long form</a>: what you type survives a \
                 forced sign-out.</p>\
                 <p><a href=\"/settings\">Settings</a> ask for your password again when you \
                 last gave it more than five minutes ago.</p>\
                 <p><a href=\"/password\">Change your password</a> and sign out your other \
                 devices.</p>\
                 <p><a href=\"/de\" lang=\"de\">Auf Deutsch</a>: the same warning in German.</p>\
                 <form method=\"post\" action=\"/logout\"><button>Sign out</button></form>",
                user = escape(&user),
            ),
        ),
        (None, true) => {
            HttpResponse::Unauthorized().json(serde_json::json!({ "error": "unauthenticated" }))
        }
        (None, false) => see_other("/login?next=/"),
    }
}

#[post("/logout", wrap = "SameOrigin::new()")]
async fn logout(req: HttpRequest, expiry: Expiry) -> HttpResponse {
    expiry.logout();
    let mut answer = if wants_json(&req) {
        HttpResponse::NoContent()
    } else {
        let mut answer = HttpResponse::SeeOther();
        answer.insert_header((header::LOCATION, "/login"));
        answer
    };
    answer
        .insert_header(("Clear-Site-Data", "\"cookies\""))
        .finish()
}

/// A long form whose draft the browser script keeps across a forced re-login. The hidden token,
/// the file input, the password and the field marked `data-session-expiry-skip` are never
/// saved.
#[get("/report")]
async fn report_form(req: HttpRequest, expiry: Expiry) -> HttpResponse {
    if expiry.user().is_none() {
        return see_other("/login?next=/report");
    }
    let costs: String = [
        ("travel", "Travel"),
        ("lodging", "Lodging"),
        ("meals", "Meals"),
    ]
    .iter()
    .map(|(name, label)| {
        format!(
            "<label>{label} <input type=\"number\" name=\"{name}\" min=\"0\" step=\"0.01\">\
                 </label>"
        )
    })
    .collect();
    signed_in_page(
        &req,
        Lang::En,
        format!(
            "<h1>Expense report</h1>\
             <p>Take your time: shortly before your session ends you are warned, and if it \
             ends anyway, what you typed here comes back once you sign in again.</p>\
             <form id=\"report\" method=\"post\" action=\"/report\" \
             data-session-expiry-preserve>\
             <input type=\"hidden\" name=\"form_token\" value=\"demo\">\
             <fieldset><legend>Trip</legend>\
             <label>Title <input name=\"title\" required></label>\
             <label>Destination <input name=\"destination\"></label>\
             <label>From <input type=\"date\" name=\"from\"></label>\
             <label>To <input type=\"date\" name=\"to\"></label>\
             <label>Purpose <select name=\"purpose\"><option value=\"\">Choose…</option>\
             <option value=\"client\">Client visit</option>\
             <option value=\"conference\">Conference</option>\
             <option value=\"training\">Training</option></select></label>\
             </fieldset>\
             <fieldset><legend>Costs</legend>{costs}\
             <fieldset><legend>Paid with</legend>\
             <label><input type=\"radio\" name=\"paid_with\" value=\"company\"> Company card</label>\
             <label><input type=\"radio\" name=\"paid_with\" value=\"own\"> My own money</label>\
             </fieldset>\
             <label><input type=\"checkbox\" name=\"receipts\" value=\"yes\"> Every receipt is \
             attached</label>\
             <label>Receipts <input type=\"file\" name=\"receipt_files\" multiple></label>\
             </fieldset>\
             <label>Details <textarea name=\"details\" rows=\"8\" cols=\"60\"></textarea></label>\
             <label>Card PIN (never kept in a draft) <input name=\"card_pin\" \
             inputmode=\"numeric\" data-session-expiry-skip></label>\
             <label>Password, to confirm <input type=\"password\" name=\"password\" \
             autocomplete=\"current-password\"></label>\
             <button>Submit the report</button></form>"
        ),
    )
}

#[post("/report", wrap = "SameOrigin::new()")]
async fn report(
    req: HttpRequest,
    expiry: Expiry,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if expiry.user().is_none() {
        return see_other("/login?next=/report");
    }
    let title = escape(form.get("title").map_or("", String::as_str));
    let lang = Lang::from_query(form.get("lang").map(String::as_str));
    let body = match lang {
        Lang::En => format!(
            "<h1>Report received</h1><p>Thank you: “{title}” is on its way.</p>\
             <p><a href=\"/\">Home</a></p>"
        ),
        Lang::De => format!(
            "<h1>Bericht erhalten</h1><p>Danke: „{title}“ ist unterwegs.</p>\
             <p><a href=\"/de\">Zurück</a></p>"
        ),
    };
    signed_in_page(&req, lang, body)
}

/// The page in German: the browser script speaks the page's language (`<html lang="de">`), in
/// the warning, in the draft notes and on the log-in page it sends the user to.
#[get("/de")]
async fn german(req: HttpRequest, expiry: Expiry) -> HttpResponse {
    let Some(user) = expiry.user() else {
        return see_other("/login?lang=de&next=/de");
    };
    signed_in_page(
        &req,
        Lang::De,
        format!(
            "<h1>Hallo, {user}</h1>\
             <p>Kurz vor dem Ende Ihrer Sitzung werden Sie gewarnt, und was Sie hier schreiben, \
             kommt nach einer erzwungenen Abmeldung zurück.</p>\
             <form id=\"bericht\" method=\"post\" action=\"/report\" \
             data-session-expiry-preserve>\
             <input type=\"hidden\" name=\"lang\" value=\"de\">\
             <label>Titel <input name=\"title\" required></label>\
             <label>Bericht <textarea name=\"details\" rows=\"8\" cols=\"60\"></textarea></label>\
             <button>Bericht senden</button></form>\
             <form method=\"post\" action=\"/logout\"><button>Abmelden</button></form>\
             <p lang=\"en\"><a href=\"/\">In English</a></p>",
            user = escape(&user),
        ),
    )
}

/// Account settings: a sensitive page, so it asks for the password again when the last
/// authentication is more than 5 minutes old (the session itself lives on).
#[get("/settings")]
#[fresh_auth(minutes = 5)]
async fn settings_form(req: HttpRequest, who: SignedIn) -> HttpResponse {
    signed_in_page(
        &req,
        Lang::En,
        format!(
            "<h1>Settings of {user}</h1>\
             <p>You confirmed your password in the last five minutes.</p>\
             <form id=\"settings\" method=\"post\" action=\"/settings\" \
             data-session-expiry-preserve>\
             <label>Display name <input name=\"display_name\"></label>\
             <label>E-mail <input type=\"email\" name=\"email\"></label>\
             <button>Save</button></form>",
            user = escape(who.user()),
        ),
    )
}

#[post("/settings", wrap = "SameOrigin::new()")]
#[fresh_auth(minutes = 5)]
async fn settings(
    req: HttpRequest,
    who: SignedIn,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let name = form.get("display_name").map_or("", String::as_str);
    if wants_json(&req) {
        return HttpResponse::Ok().json(serde_json::json!({ "saved": true, "user": who.user() }));
    }
    signed_in_page(
        &req,
        Lang::En,
        format!(
            "<h1>Saved</h1><p>{user}, your display name is now “{name}”.</p>\
             <p><a href=\"/\">Home</a></p>",
            user = escape(who.user()),
            name = escape(name),
        ),
    )
}

#[derive(Deserialize)]
struct Confirmation {
    password: String,
    next: Option<String>,
}

/// Where `#[fresh_auth]` sends a browser: the password again, for the signed-in user.
#[get("/confirm")]
async fn confirm_form(
    req: HttpRequest,
    who: SignedIn,
    query: web::Query<LoginPage>,
) -> HttpResponse {
    signed_in_page(
        &req,
        Lang::En,
        confirm_page(who.user(), query.next.as_deref(), None),
    )
}

#[post("/confirm", wrap = "SameOrigin::new()")]
async fn confirm(
    req: HttpRequest,
    expiry: Expiry,
    who: SignedIn,
    body: Either<web::Json<Confirmation>, web::Form<Confirmation>>,
    accounts: Option<web::Data<Accounts>>,
) -> actix_web::Result<HttpResponse> {
    let (confirmation, json) = match body {
        Either::Left(json) => (json.into_inner(), true),
        Either::Right(form) => (form.into_inner(), false),
    };
    let known = accounts_of(accounts)
        .check(who.user(), &confirmation.password)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    if !known {
        return Ok(if json {
            HttpResponse::Unauthorized().json(serde_json::json!({ "error": "invalid_credentials" }))
        } else {
            let page = confirm_page(
                who.user(),
                confirmation.next.as_deref(),
                Some("Wrong password."),
            );
            let mut answer = signed_in_page(&req, Lang::En, page);
            *answer.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            answer
        });
    }
    expiry.reauthenticated()?;
    Ok(if json {
        HttpResponse::NoContent().finish()
    } else {
        let next = confirmation
            .next
            .as_deref()
            .and_then(same_site_path)
            .unwrap_or("/");
        see_other(next)
    })
}

/// The app's accounts, or the demo's starting ones for an app that registered none.
fn accounts_of(accounts: Option<web::Data<Accounts>>) -> Accounts {
    accounts.map_or_else(Accounts::default, |data| Accounts::clone(&data))
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
    /// "Sign out my other devices": ticked unless said otherwise, as in Keycloak's form (a form
    /// sends the box only when ticked, so the page sends `sign_out_others_shown` beside it).
    #[serde(default, deserialize_with = "checked")]
    sign_out_others: bool,
    #[serde(default)]
    sign_out_others_shown: Option<String>,
}

#[get("/password")]
async fn password_form(req: HttpRequest, who: SignedIn) -> HttpResponse {
    signed_in_page(
        &req,
        Lang::En,
        format!(
            "<h1>Change the password of {user}</h1>\
             <form method=\"post\" action=\"/password\">\
             <label>New password <input type=\"password\" name=\"password\" required></label>\
             <input type=\"hidden\" name=\"sign_out_others_shown\" value=\"1\">\
             <label><input type=\"checkbox\" name=\"sign_out_others\" checked> Sign out my \
             other devices</label>\
             <button>Change password</button></form>",
            user = escape(who.user()),
        ),
    )
}

/// `POST /password`, JSON `{"password": "...", "sign_out_others": true}` (the box defaults to
/// ticked) or the form: sets the new password and, with the box ticked, ends every other
/// session of the user (this one stays signed in, under a new session ID).
#[post("/password", wrap = "SameOrigin::new()")]
async fn change_password(
    req: HttpRequest,
    expiry: Expiry,
    who: SignedIn,
    body: Either<web::Json<serde_json::Value>, web::Form<NewPassword>>,
    accounts: web::Data<Accounts>,
) -> actix_web::Result<HttpResponse> {
    let (new, json) = match body {
        Either::Left(json) => {
            let value = json.into_inner();
            let Some(password) = value.get("password").and_then(|p| p.as_str()) else {
                return Ok(HttpResponse::BadRequest()
                    .json(serde_json::json!({ "error": "password_required" })));
            };
            let sign_out_others = value
                .get("sign_out_others")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            (
                NewPassword {
                    password: password.to_owned(),
                    sign_out_others,
                    sign_out_others_shown: None,
                },
                true,
            )
        }
        // A form without the page's marker is treated as ticked: never less safe than asked.
        Either::Right(form) => {
            let mut form = form.into_inner();
            form.sign_out_others |= form.sign_out_others_shown.is_none();
            (form, false)
        }
    };
    if new.password.is_empty() {
        return Ok(
            HttpResponse::BadRequest().json(serde_json::json!({ "error": "password_required" }))
        );
    }
    accounts
        .change_password(who.user(), &new.password, new.sign_out_others)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?;
    if new.sign_out_others {
        expiry.credentials_changed()?;
    }
    Ok(if json {
        HttpResponse::Ok().json(serde_json::json!({ "signed_out_others": new.sign_out_others }))
    } else {
        signed_in_page(
            &req,
            Lang::En,
            "<h1>Password changed</h1><p><a href=\"/\">Home</a></p>".to_owned(),
        )
    })
}

fn confirm_page(user: &str, next: Option<&str>, message: Option<&str>) -> String {
    let next = next.and_then(same_site_path).unwrap_or("/");
    let message = message.map_or(String::new(), |m| {
        format!("<p role=\"alert\" class=\"notice\">{}</p>", escape(m))
    });
    format!(
        "<h1>Confirm it is you</h1>{message}\
         <p>This page needs your password again, {user}; you stay signed in.</p>\
         <form method=\"post\" action=\"/confirm\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Password <input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label>\
         <button>Confirm</button></form>",
        user = escape(user),
        next = escape(next),
    )
}

/// Why the session ended, for a `reason` the crate sends, as a notice the browser script puts
/// in the page's language (English here is for browsers without JavaScript).
fn reason_notice(reason: &str) -> Option<String> {
    let text = match reason {
        "idle" => "You were signed out after a period of inactivity.",
        "absolute" => "Your session reached its maximum length. Please sign in again.",
        "revoked" => "Your session was ended, possibly from another device.",
        "evicted" => {
            "You were signed out because you are signed in on too many devices and this one \
             had been used least recently."
        }
        "invalid" => "Your session could not be verified. Please sign in again.",
        "credentials_changed" => "Your password was changed. Please sign in again.",
        _ => return None,
    };
    Some(format!(
        "<p role=\"status\" class=\"notice\" data-session-expiry-reason=\"{reason}\">{text}</p>"
    ))
}

/// The log-in form; `notice` is HTML. The script on it settles drafts: it forgets them after a
/// sign-out by choice (no `reason`) and keeps those of `next` for a forced re-login.
fn login_page(lang: Lang, next: Option<&str>, notice: Option<&str>) -> String {
    let next = next.and_then(same_site_path).unwrap_or("/");
    let t = |texts| lang.pick(texts);
    format!(
        "<main><h1>{title}</h1>{notice}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label>{user} <input name=\"username\" autocomplete=\"username\" required></label>\
         <label>{password} <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label><input type=\"checkbox\" name=\"remember\"> {remember}</label>\
         <button>{title}</button></form>\
         <p>{demo}</p></main>{script}",
        title = t(("Sign in", "Anmelden")),
        notice = notice.unwrap_or_default(),
        next = escape(next),
        lang = lang.tag(),
        user = t(("User", "Benutzer")),
        password = t(("Password", "Passwort")),
        remember = t(("Keep me signed in", "Angemeldet bleiben")),
        demo = t((
            "Demo users: alice and bob, password <code>password</code>.",
            "Demo-Benutzer: alice und bob, Passwort <code>password</code>."
        )),
        script = script_tag(lang, None),
    )
}

/// Just enough style to read the pages.
const STYLE: &str = "body{font:1rem/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;\
                     padding:0 1rem}label{display:block;margin:.4rem 0}fieldset{margin:1rem 0}";

fn page(lang: Lang, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <title>session-expiry demo</title><style>{STYLE}</style></head>\
             <body>{body}</body></html>",
            lang = lang.tag(),
        ))
}

/// The session-expiry script, configured alike on every page (the log-in page too: it settles
/// drafts there). Typing, pointing and scrolling count as activity (`data-activity`); `/confirm`
/// is the page that asks for the password again before a sensitive action.
fn script_tag(lang: Lang, warn_secs: Option<u64>) -> String {
    let warn = warn_secs.map_or(String::new(), |secs| {
        format!(" data-warn-seconds=\"{secs}\"")
    });
    format!(
        "<script src=\"/session/expiry.js\" defer data-login-url=\"{login}\" \
         data-logout-url=\"/logout\" data-reauth-url=\"/confirm\" data-activity=\"input\"{warn}>\
         </script>",
        login = lang.login_url(),
    )
}

/// A page for a signed-in user, with the session-expiry script.
fn signed_in_page(req: &HttpRequest, lang: Lang, body: String) -> HttpResponse {
    let warn = req
        .app_data::<web::Data<Warning>>()
        .map_or(60, |warning| warning.before.as_secs());
    page(
        lang,
        format!("<main>{body}</main>{}", script_tag(lang, Some(warn))),
    )
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// `MAX_SESSIONS`, if set: how many sessions each user may hold at once.
#[allow(dead_code)] // the quickstart keeps no registry
pub fn max_sessions() -> io::Result<Option<u32>> {
    match env::var("MAX_SESSIONS") {
        Err(_) => Ok(None),
        Ok(raw) => match raw.trim().parse() {
            Ok(max) if max > 0 => Ok(Some(max)),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("MAX_SESSIONS must be a whole number above 0, got {raw:?}"),
            )),
        },
    }
}
