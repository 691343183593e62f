//! The [`SessionExpiry`] middleware: checks every signed-in request against its deadlines.

use std::{
    future::Future,
    pin::Pin,
    rc::Rc,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use crate::store::session_api::{self, Session, SessionExt as _, SessionState};
use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    HttpMessage as _, HttpResponse,
};

use crate::{
    config::configuration::Configuration,
    config::ExpiredAction,
    config::SessionExpiryBuilder,
    context::{EndedSession, RequestContext, Snapshot},
    login::{self, PolicySource, Proof},
    response, session_data,
    stack_check::Probe,
    state::{policy_from_millis, ExpiryState, PolicyMillis, LEGACY_STATE_KEY},
    store::{reserved::ENDING_KEY, StoreMarker},
    unix_ms::UnixMs,
    ExpiryReason, SessionEvent, STATE_KEY,
};

/// Ends sessions after an idle timeout, an absolute timeout, or both.
///
/// Register it *inside* actix-session's `SessionMiddleware`, which in actix-web means wrapping
/// it *before* (`App::wrap` runs the last-registered middleware first):
///
/// ```no_run
/// use actix_session::{storage::CookieSessionStore, SessionMiddleware};
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session_expiry::SessionExpiry;
///
/// # async fn run() -> std::io::Result<()> {
/// let key = Key::generate();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionExpiry::builder().login_path("/login").build())
///         .wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
///
/// For each request: no expiry state means an anonymous request, passed through untouched.
/// Otherwise the absolute timeout is checked, then the idle timeout; a session is expired once
/// the elapsed time equals the timeout. An expired session is purged and reported (see
/// [`ExpiryEvent`](crate::ExpiryEvent)), then answered per [`ExpiredAction`]. A live one is
/// passed on, and on the way out last-seen is refreshed if it is older than the refresh
/// granularity, unless the request was [`Passive`](crate::Passive).
///
/// A server-side store can say more than the state: with the Redis store (feature `redis`), a
/// revoked session ends with reason `revoked`, a session whose data the store already dropped at
/// its deadline ends with reason `absolute` (if its absolute limit, under the policy that applies
/// to it now, has passed) or else `idle`, and a session the store cannot load because it is
/// unreachable is answered `503` with `Retry-After`, its handler never run.
///
/// # How did we choose defaults?
/// 30 minutes idle and 5 days absolute follow common practice for ordinary web applications
/// (OWASP's session management guidance suggests 15–30 minutes idle for low-risk
/// applications); sensitive ones should go lower. Refreshing last-seen at most every
/// twentieth of the idle timeout (and at most every minute) makes a session end at most 5%
/// early, in exchange for one store write per window instead of one per request.
#[derive(Debug, Clone)]
pub struct SessionExpiry {
    configuration: Arc<Configuration>,
}

impl SessionExpiry {
    /// The middleware with every default: see [`SessionExpiryBuilder`].
    ///
    /// # Examples
    /// ```
    /// let middleware = session_expiry::SessionExpiry::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring the middleware.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let middleware = session_expiry::SessionExpiry::builder()
    ///     .idle_timeout(Duration::from_secs(900))
    ///     .build();
    /// ```
    pub fn builder() -> SessionExpiryBuilder {
        SessionExpiryBuilder::new()
    }

    pub(crate) fn from_configuration(configuration: Configuration) -> Self {
        Self {
            configuration: Arc::new(configuration),
        }
    }

    /// What this middleware was built with, for a store that must agree with it.
    #[cfg(feature = "redis")]
    pub(crate) fn configuration(&self) -> &Configuration {
        &self.configuration
    }
}

impl Default for SessionExpiry {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionExpiry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionExpiryService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SessionExpiryService {
            service: Rc::new(service),
            // A copy per worker (what it shares, such as hooks and the signed-out registry,
            // stays shared behind its own `Arc`): every request clones this `Arc`, and one
            // reference count bumped by every worker's thread would bounce between their cores.
            configuration: Arc::new(Configuration::clone(&self.configuration)),
        }))
    }
}

/// The service [`SessionExpiry`] wraps around the app; not used directly.
#[doc(hidden)]
pub struct SessionExpiryService<S> {
    service: Rc<S>,
    configuration: Arc<Configuration>,
}

/// What the stored state says about a request, before anything is done about it.
enum Verdict {
    Anonymous,
    /// A live session; `true` when its state is under the key of earlier releases, to move.
    Live(Snapshot, bool),
    Expired(Option<EndedSession>, ExpiryReason),
    /// The store could not be reached: the session cannot be checked.
    Unavailable(Duration),
}

fn judge(session: &Session, config: &Configuration, now: UnixMs) -> Verdict {
    // Read in place: the raw state is only borrowed, never copied, on this per-request path.
    let entries = session_api::entries(session);
    let key = &*config.state_key;
    let decode = |raw: &str| ExpiryState::decode(raw, now, config.clock_skew_tolerance);
    // A store's marker never comes with the state under its key: a session that has it (every
    // live one) is judged without looking for one.
    let (raw, legacy) = match session_api::json_text(&entries, key) {
        Some(raw) => (raw, false),
        None => {
            if let Some(marker) = StoreMarker::read(&entries) {
                return marked(marker, &entries, config, now);
            }
            // Earlier releases kept the state under a longer key: read it there too, and move
            // it.
            match session_api::json_text(&entries, LEGACY_STATE_KEY).filter(|_| key == STATE_KEY) {
                Some(raw) => (raw, true),
                None => return Verdict::Anonymous,
            }
        }
    };
    match decode(raw) {
        Err(problem) => {
            tracing::debug!(target: "session_expiry", %problem, "refusing session state");
            Verdict::Expired(None, ExpiryReason::Invalid)
        }
        Ok(state) => {
            let snapshot = Snapshot::new(state, config);
            let state = &snapshot.state;
            match snapshot.policy.reached(state.login, state.seen, now) {
                Some(reason) => Verdict::Expired(Some(EndedSession::from(state)), reason),
                None => Verdict::Live(snapshot, legacy),
            }
        }
    }
}

/// What a store's marker says of the request's session.
fn marked(
    marker: StoreMarker,
    entries: &SessionState,
    config: &Configuration,
    now: UnixMs,
) -> Verdict {
    let ending = || {
        session_api::json_text(entries, ENDING_KEY)
            .and_then(|raw| ExpiryState::decode(raw, now, config.clock_skew_tolerance).ok())
            .map(|state| EndedSession::from(&state))
    };
    match marker {
        StoreMarker::Unavailable { retry_after } => Verdict::Unavailable(retry_after),
        StoreMarker::Revoked => Verdict::Expired(ending(), ExpiryReason::Revoked),
        StoreMarker::Evicted => Verdict::Expired(ending(), ExpiryReason::Evicted),
        StoreMarker::Ended {
            login_ms,
            user,
            policy,
        } => {
            let Some(login) = UnixMs::new(login_ms) else {
                return Verdict::Expired(None, ExpiryReason::Invalid);
            };
            let reason = dropped_reason(config, policy, login, now);
            let ended = EndedSession {
                user,
                login,
                seen: None,
            };
            Verdict::Expired(Some(ended), reason)
        }
        StoreMarker::Unknown => Verdict::Expired(None, ExpiryReason::Invalid),
    }
}

/// Why a session the store dropped at its deadline ended, as the state would have said now: one
/// of its deadlines has passed, so `absolute` if the absolute limit of the policy that applies to
/// it (the user's snapshot, else the global one, capped by `max_policy`) has, else `idle`.
fn dropped_reason(
    config: &Configuration,
    snapshot: Option<PolicyMillis>,
    login: UnixMs,
    now: UnixMs,
) -> ExpiryReason {
    let policy = config.effective_policy(snapshot.map(policy_from_millis));
    if policy
        .absolute()
        .is_some_and(|limit| now.since(login) >= limit)
    {
        ExpiryReason::Absolute
    } else {
        ExpiryReason::Idle
    }
}

impl<S, B> Service<ServiceRequest> for SessionExpiryService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = SessionExpiryFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match admit(req, &self.configuration) {
            Ok(Admitted::Answered(answer)) => SessionExpiryFuture::ready(Ok(answer)),
            Ok(Admitted::Passed(req, session, context)) => {
                SessionExpiryFuture::inner(self.service.call(req), session, context)
            }
            Err(error) => SessionExpiryFuture::ready(Err(error)),
        }
    }
}

/// What the way in made of a request.
enum Admitted<B> {
    /// Answered at once (an expired session, an unavailable store).
    Answered(ServiceResponse<EitherBody<B>>),
    /// Passed on to the app, with its session and context.
    Passed(ServiceRequest, Session, Rc<RequestContext>),
}

/// The way in: judge the session, end it or adopt one, and leave the context for the
/// extractors.
fn admit<B>(
    req: ServiceRequest,
    config: &Arc<Configuration>,
) -> Result<Admitted<B>, actix_web::Error> {
    let session = req.get_session();
    if config.stack.error().is_some() {
        // Logged when found: every request of a stack that would lose sessions is refused.
        let answer = HttpResponse::InternalServerError().finish();
        return Ok(Admitted::Answered(
            req.into_response(answer).map_into_right_body(),
        ));
    }
    let probe = config.stack.arrive(&session);
    let now = config.now();
    let config = Arc::clone(config);
    let not_activity = config.activity_from_same_origin_only && from_another_origin(&req);
    let context = match judge(&session, &config, now) {
        Verdict::Anonymous => match adopted_user(&req, &session, &config) {
            None => RequestContext::new(config, now, None),
            Some(user) => adopt(config, &session, user, now)?,
        },
        Verdict::Live(snapshot, legacy) => {
            if legacy {
                // Moved under the current key as it is; the way out refreshes it as usual.
                session.remove(LEGACY_STATE_KEY);
                session.insert(&*config.state_key, snapshot.state.encode(&snapshot.policy))?;
            }
            RequestContext::new(config, now, Some(snapshot))
        }
        Verdict::Expired(ended, reason) => {
            let context = RequestContext::new(Arc::clone(&config), now, None);
            context.end(&session, ended.as_ref(), reason);
            if config.expired_action == ExpiredAction::Respond {
                let answer = response::expired(req.request(), reason, config.login_path.as_deref());
                return Ok(Admitted::Answered(
                    req.into_response(answer).map_into_right_body(),
                ));
            }
            context
        }
        Verdict::Unavailable(retry_after) => {
            tracing::error!(
                target: "session_expiry",
                path = req.path(),
                "the session store is unavailable, so this session cannot be checked: \
                 answering 503"
            );
            let answer = response::unavailable(req.request(), retry_after);
            return Ok(Admitted::Answered(
                req.into_response(answer).map_into_right_body(),
            ));
        }
    };
    if not_activity {
        context.mark_passive();
    }
    if let Some(probe) = probe {
        context.carry_probe(probe);
    }
    let context = Rc::new(context);
    req.extensions_mut().insert(Rc::clone(&context));
    Ok(Admitted::Passed(req, session, context))
}

type Outcome<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

/// The rare way out that awaits (a resolver).
type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

pin_project_lite::pin_project! {
    /// The future of [`SessionExpiryService`]: the app's own, then the way out. Not boxed: a
    /// request costs no allocation of it, except a log-in whose policy is still to resolve.
    #[doc(hidden)]
    pub struct SessionExpiryFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        /// Answered already (or done).
        Ready { outcome: Option<Outcome<B>> },
        /// The app runs.
        App {
            #[pin]
            app: F,
            session: Session,
            context: Rc<RequestContext>,
        },
        /// A log-in's policy is being resolved.
        Resolving { resolving: LocalBoxFuture<Outcome<B>> },
    }
}

impl<F, B> SessionExpiryFuture<F, B> {
    fn ready(outcome: Outcome<B>) -> Self {
        Self {
            state: State::Ready {
                outcome: Some(outcome),
            },
        }
    }

    fn inner(app: F, session: Session, context: Rc<RequestContext>) -> Self {
        Self {
            state: State::App {
                app,
                session,
                context,
            },
        }
    }
}

impl<F, B> Future for SessionExpiryFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
{
    type Output = Outcome<B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        match state.as_mut().project() {
            StateProjection::Ready { outcome } => {
                Poll::Ready(outcome.take().unwrap_or_else(|| {
                    Err(actix_web::error::ErrorInternalServerError(
                        "the session-expiry future was polled after it completed",
                    ))
                }))
            }
            StateProjection::App {
                app,
                session,
                context,
            } => {
                let res = match app.poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(res) => res?,
                };
                if !context.resolution_pending() {
                    return Poll::Ready(finish(res, session, context));
                }
                let (session, context) = (session.clone(), Rc::clone(context));
                let mut resolving: LocalBoxFuture<Outcome<B>> =
                    Box::pin(resolve_then_finish(res, session, context));
                let poll = resolving.as_mut().poll(cx);
                state.set(State::Resolving { resolving });
                poll
            }
            StateProjection::Resolving { resolving } => resolving.as_mut().poll(cx),
        }
    }
}

/// The way out of a log-in without a policy of its own: consult the resolver, then finish.
async fn resolve_then_finish<B>(
    res: ServiceResponse<B>,
    session: Session,
    context: Rc<RequestContext>,
) -> Outcome<B> {
    let config = &context.config;
    if let (Some(state), Some(resolver)) = (context.take_unresolved(), &config.resolver) {
        let resolved = resolver
            .resolve(state.user.clone(), res.request().clone())
            .await;
        if resolved.is_some() || state.remembered {
            let remembered = state.remembered;
            let source = PolicySource::Resolved(resolved);
            let state = login::with_policy(config, state, source, remembered);
            context.store(&session, Snapshot::new(state, config))?;
        }
    }
    finish(res, &session, &context)
}

/// Whether the browser says another origin made it send this request: a sibling subdomain
/// (`same-site`) or another site (`cross-site`), whatever its kind. One header lookup, as it
/// runs on every request; an unknown value counts as another origin, as in
/// [`check_same_origin`](crate::same_origin::check_same_origin).
fn from_another_origin(req: &ServiceRequest) -> bool {
    crate::fetch_metadata::site(req.headers())
        .is_some_and(|site| !matches!(site, b"same-origin" | b"none"))
}

/// The user to adopt for a session without expiry state, per [`Adoption`]: never one this
/// crate ended, whatever identity entries of another mechanism remain in it.
fn adopted_user(req: &ServiceRequest, session: &Session, config: &Configuration) -> Option<String> {
    if !config.adoption.adopts() || session_data::was_ended(session) {
        return None;
    }
    config
        .adoption
        .find_user(req.request())
        .filter(|user| crate::state::check_user_id(user).is_ok())
}

/// Signs in the user another mechanism signed in: the clocks start now, and the session does
/// not count as freshly authenticated (no credentials were presented). Route guards see it as
/// a session that arrived signed in.
fn adopt(
    config: Arc<Configuration>,
    session: &Session,
    user: String,
    now: UnixMs,
) -> Result<RequestContext, actix_web::Error> {
    config
        .events
        .emit(&SessionEvent::Adopted { user: user.clone() });
    let source = PolicySource::Deferred;
    let state = login::state(&config, user, now, source, false, Proof::Adopted);
    let snapshot = Snapshot::new(state.clone(), &config);
    let context = RequestContext::new(config, now, Some(snapshot));
    login::sign_in(&context, session, state, source)?;
    Ok(context)
}

/// The way out: answer a session a route ended, report a log-in, refresh last-seen when due,
/// and catch a middleware order that would lose every write. (A log-in's policy is resolved
/// before, by [`resolve_then_finish`].)
fn finish<B>(res: ServiceResponse<B>, session: &Session, context: &RequestContext) -> Outcome<B> {
    let config = &context.config;
    if let Some(Err(_inside_out)) = context.probe().map(Probe::depart) {
        let answer = HttpResponse::InternalServerError().finish();
        return Ok(res.into_response(answer).map_into_right_body());
    }
    if let Some(reason) = context.answer_expired() {
        let answer = response::expired(res.request(), reason, config.login_path.as_deref());
        return Ok(res.into_response(answer).map_into_right_body());
    }
    if context.purge_if_signed_out(session) {
        return Ok(response::negotiated(res));
    }
    let key = &*config.state_key;
    // Read the clock after the handler: a long request must not record a stale time.
    let now = config.now();
    context.depart(now);
    if let Some(refreshed) = context.refresh_due(now) {
        // A session signed out meanwhile (another tab) must not be written back (cookie store).
        if session.contains_key(key) && !config.signed_out.contains(&refreshed.state, now) {
            context.store(session, refreshed)?;
            crate::metrics::refresh();
        }
    }
    // Only once the stack is known to save it: an inside-out stack reports no false log-in.
    context.report_log_in();
    Ok(response::negotiated(res))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(hours: u32) -> UnixMs {
        UnixMs::new(0).unwrap().plus(hours * HOUR)
    }

    #[test]
    fn a_dropped_session_is_named_by_the_policy_that_applies_to_it_now() {
        let global = SessionExpiry::builder()
            .idle_timeout(HOUR)
            .absolute_timeout(8 * HOUR)
            .build();
        let config = &global.configuration;
        let (login, ms) = (at(0), |d: Duration| {
            Some(u64::try_from(d.as_millis()).unwrap())
        });
        assert_eq!(
            dropped_reason(config, None, login, at(2)),
            ExpiryReason::Idle
        );
        assert_eq!(
            dropped_reason(config, None, login, at(8)),
            ExpiryReason::Absolute
        );
        // The user's snapshot wins over the global policy, in both directions.
        let short = Some((None, ms(2 * HOUR)));
        assert_eq!(
            dropped_reason(config, short, login, at(2)),
            ExpiryReason::Absolute
        );
        let long = Some((ms(HOUR), ms(48 * HOUR)));
        assert_eq!(
            dropped_reason(config, long, login, at(9)),
            ExpiryReason::Idle
        );
        // ... capped by the ceiling.
        let capped = SessionExpiry::builder()
            .max_policy(Policy::new().with_absolute(4 * HOUR))
            .build();
        let config = &capped.configuration;
        assert_eq!(
            dropped_reason(config, long, login, at(5)),
            ExpiryReason::Absolute
        );
        // Without any absolute limit it can only have been idle.
        let idle_only = SessionExpiry::builder().idle_timeout(HOUR).build();
        let no_limit = Some((ms(HOUR), None));
        let config = &idle_only.configuration;
        assert_eq!(
            dropped_reason(config, no_limit, login, at(99)),
            ExpiryReason::Idle
        );
    }
}
