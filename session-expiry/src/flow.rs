//! A request's way through [`SessionExpiry`](crate::SessionExpiry): the way in ([`admit`]:
//! judge the session, end it or adopt one, leave the context for the extractors) and the way
//! out ([`finish`]: answer, purge, report, refresh).

use std::{rc::Rc, sync::Arc};

use actix_web::{
    body::EitherBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
    HttpMessage as _, HttpResponse,
};

use crate::{
    config::{configuration::Configuration, ExpiredAction},
    context::{EndedSession, RequestContext, Snapshot},
    login::{self, PolicySource, Proof},
    response, session_data,
    stack_check::Probe,
    stamp::{
        check::{self, Arrival, StampCheck},
        StampHash,
    },
    state::LEGACY_STATE_KEY,
    store::session_api::{Session, SessionExt as _},
    unix_ms::UnixMs,
    verdict::{judge, Verdict},
    SessionEvent,
};

/// What the way in made of a request.
pub(crate) enum Admitted<B> {
    /// Answered at once (an expired session, an unavailable store).
    Answered(ServiceResponse<EitherBody<B>>),
    /// Passed on to the app, with its session and context.
    Passed(ServiceRequest, Session, Rc<RequestContext>),
    /// A signed-in session whose user's security stamp (or the store's "valid from") is to be
    /// read first.
    LookUp(ServiceRequest, StampCheck),
}

/// The way in: judge the session, end it or adopt one, and leave the context for the
/// extractors.
pub(crate) fn admit<B>(
    req: ServiceRequest,
    config: &Arc<Configuration>,
) -> Result<Admitted<B>, actix_web::Error> {
    let now = config.now();
    admit_at(req, config, now, None)
}

/// [`admit`], for a request that arrived at `now`; `looked_up`: the stamp its user's lookup
/// just gave, if it had to wait for one.
pub(crate) fn admit_at<B>(
    req: ServiceRequest,
    config: &Arc<Configuration>,
    now: UnixMs,
    looked_up: Option<Option<StampHash>>,
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
    let config = Arc::clone(config);
    let verdict = match judge(&session, &config, now) {
        Verdict::Live(snapshot, legacy) => {
            match check::on_arrival(&config, &snapshot.state, now, looked_up) {
                Arrival::Pass => Verdict::Live(snapshot, legacy),
                Arrival::Ended(reason) => {
                    Verdict::Expired(Some(EndedSession::from(&snapshot.state)), reason)
                }
                Arrival::Wait(pending) => {
                    let user = snapshot.state.user;
                    return Ok(Admitted::LookUp(req, StampCheck { pending, user, now }));
                }
            }
        }
        verdict => verdict,
    };
    let context = match verdict {
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
    if let Some(probe) = probe {
        context.carry_probe(probe);
    }
    let context = Rc::new(context);
    req.extensions_mut().insert(Rc::clone(&context));
    Ok(Admitted::Passed(req, session, context))
}

pub(crate) type Outcome<B> = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

/// The way out that awaits: consult the resolver for a log-in without a policy of its own, take
/// the security stamp, then finish.
pub(crate) async fn resolve_then_finish<B>(
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
    if let Some(answer) = check::on_the_way_out(res.request(), &session, &context).await? {
        return Ok(res.into_response(answer).map_into_right_body());
    }
    finish(res, &session, &context)
}

/// Whether the browser says another origin made it send this request: a sibling subdomain
/// (`same-site`) or another site (`cross-site`), whatever its kind. One header lookup, made only
/// when a refresh is due; an unknown value counts as another origin, as in
/// [`check_same_origin`](crate::same_origin::check_same_origin).
fn from_another_origin(headers: &HeaderMap) -> bool {
    crate::fetch_metadata::site(headers)
        .is_some_and(|site| !matches!(site, b"same-origin" | b"none"))
}

/// The user to adopt for a session without expiry state, per [`Adoption`](crate::config::Adoption): never one this
/// crate ended, whatever identity entries of another mechanism remain in it.
fn adopted_user(req: &ServiceRequest, session: &Session, config: &Configuration) -> Option<String> {
    if !config.adoption.adopts() || session_data::was_ended(session) {
        return None;
    }
    config
        .adoption
        .find_user(req.request())
        .filter(|user| crate::login::check_user_id(user).is_ok())
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
pub(crate) fn finish<B>(
    res: ServiceResponse<B>,
    session: &Session,
    context: &RequestContext,
) -> Outcome<B> {
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
        // Looked at only when a refresh is due: most requests need no header lookup for it.
        let counts =
            !config.activity_from_same_origin_only || !from_another_origin(res.request().headers());
        // A session signed out meanwhile (another tab) must not be written back (cookie store).
        if counts && session.contains_key(key) && !config.signed_out.contains(&refreshed.state, now)
        {
            context.store(session, refreshed)?;
            crate::metrics::refresh();
        }
    }
    // Only once the stack is known to save it: an inside-out stack reports no false log-in.
    context.report_log_in();
    Ok(response::negotiated(res))
}
