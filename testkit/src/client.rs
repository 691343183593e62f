//! A browser-like test client: sends requests to an actix test service and keeps the session
//! cookie (`id`) the app sets, as a browser would.

use std::cell::RefCell;

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    http::{header, StatusCode},
    test::{self, TestRequest},
};

/// What a request got back, with its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
    /// Whether the response set (or removed) the session cookie.
    pub set_cookie: bool,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The fields of a stored state record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState(pub Vec<String>);

impl StoredState {
    fn number(&self, field: usize) -> u64 {
        u64::from_str_radix(&self.0[field], 36).unwrap()
    }

    /// Last seen, ms after log-in.
    pub fn seen_after_login_ms(&self) -> u64 {
        self.number(3)
    }

    /// The last authentication, ms after log-in.
    pub fn authenticated_after_login_ms(&self) -> u64 {
        self.number(7)
    }
}

/// A browser-like client: remembers the session cookie the app sets.
pub struct Client<S> {
    app: S,
    jar: RefCell<Option<Cookie<'static>>>,
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    pub fn new(app: S) -> Self {
        Self {
            app,
            jar: RefCell::new(None),
        }
    }

    pub fn cookie(&self) -> Option<Cookie<'static>> {
        self.jar.borrow().clone()
    }

    pub fn set_cookie(&self, cookie: Option<Cookie<'static>>) {
        *self.jar.borrow_mut() = cookie;
    }

    /// Sends `req` with the current cookie, as a JSON client.
    pub async fn json(&self, req: TestRequest) -> Answer {
        self.send(req.insert_header((header::ACCEPT, "application/json")))
            .await
    }

    /// Sends `req` with the current cookie, as it is.
    pub async fn send(&self, req: TestRequest) -> Answer {
        let cookie = self.cookie();
        let req = match cookie {
            Some(cookie) => req.cookie(cookie),
            None => req,
        };
        let res = match self.app.call(req.to_request()).await {
            Ok(res) => res.map_into_boxed_body(),
            Err(error) => {
                let res = error.error_response();
                ServiceResponse::new(TestRequest::default().to_http_request(), res)
            }
        };
        let status = res.status();
        let headers = res.headers().clone();
        let mut set_cookie = false;
        for value in headers.get_all(header::SET_COOKIE) {
            let cookie = Cookie::parse_encoded(value.to_str().unwrap().to_owned()).unwrap();
            if cookie.name() == "id" {
                set_cookie = true;
                let removed = cookie.value().is_empty();
                *self.jar.borrow_mut() = (!removed).then_some(cookie.into_owned());
            }
        }
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        Answer {
            status,
            headers,
            body,
            set_cookie,
        }
    }

    pub async fn login(&self) {
        let answer = self.json(TestRequest::post().uri("/login/alice")).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }

    /// The state the session holds, as the documented record (`2.user.login.seen...`, see
    /// the `state` module of the crate), split into its fields.
    pub async fn stored_state(&self) -> Option<StoredState> {
        let answer = self.json(TestRequest::get().uri("/state")).await;
        serde_json::from_str::<Option<String>>(&answer.body)
            .unwrap()
            .map(|raw| {
                let record: String = serde_json::from_str(&raw).unwrap();
                StoredState(record.split('.').map(str::to_owned).collect())
            })
    }
}
