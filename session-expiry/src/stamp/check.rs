//! The security stamp at work on a request: judged on the way in (from the cache, or after one
//! shared lookup), taken on the way out of a log-in or a credentials change.

use std::{rc::Rc, sync::Arc, time::Duration};

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceRequest, ServiceResponse},
    HttpRequest, HttpResponse,
};

use super::{cache::Entry, Cached, StampHash, StampLookupError, Stamps};
use crate::{
    config::configuration::Configuration,
    context::{EndedSession, RequestContext, Snapshot, StampDue},
    flow::{admit_at, finish, resolve_then_finish, Admitted, Outcome},
    live::{Notice, Target, Which},
    response,
    state::ExpiryState,
    store::session_api::Session,
    unix_ms::UnixMs,
    ExpiryError, ExpiryReason, SessionEvent,
};

/// How long a client is asked to wait when the stamp lookup failed.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// What the stamp (and [`sessions_valid_from`]) say of a live session on its arrival.
///
/// [`sessions_valid_from`]: crate::config::SessionExpiryBuilder::sessions_valid_from
pub(crate) enum Arrival {
    Pass,
    Ended(ExpiryReason),
    /// Not in the cache: look it up, then judge again.
    LookUp(Arc<Entry>),
}

/// Judges `state` at `now` by the global "valid from" and the user's stamp: the cached one, or
/// `looked_up` when the request has just looked it up.
pub(crate) fn on_arrival(
    config: &Configuration,
    state: &ExpiryState,
    now: UnixMs,
    looked_up: Option<Option<StampHash>>,
) -> Arrival {
    let valid_from = config.valid_from.load(std::sync::atomic::Ordering::Relaxed);
    if state.login.millis() < valid_from {
        return Arrival::Ended(ExpiryReason::Revoked);
    }
    let Some(stamps) = &config.stamps else {
        return Arrival::Pass;
    };
    let current = match looked_up {
        Some(current) => current,
        None => match stamps.cache.get(&state.user, now) {
            Cached::Known(current) => current,
            Cached::Lookup(entry) => return Arrival::LookUp(entry),
        },
    };
    match current {
        None => Arrival::Ended(ExpiryReason::Revoked),
        Some(stamp) if state.stamp == Some(stamp) => Arrival::Pass,
        Some(_) => Arrival::Ended(ExpiryReason::CredentialsChanged),
    }
}

/// A request whose user's stamp is to be looked up before it is judged.
pub(crate) struct StampCheck {
    pub(crate) entry: Arc<Entry>,
    pub(crate) user: String,
    /// When the request arrived: it is judged by that instant after the lookup too.
    pub(crate) now: UnixMs,
}

/// Looks the stamp up (or waits for the request that does), then admits the request with it
/// and runs the app: the rare way in that awaits.
pub(crate) async fn look_up_then_call<S, B>(
    service: Rc<S>,
    req: ServiceRequest,
    config: Arc<Configuration>,
    check: StampCheck,
) -> Outcome<B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let Some(stamps) = &config.stamps else {
        return Err(actix_web::error::ErrorInternalServerError(
            "a stamp check without a stamp lookup",
        ));
    };
    let looked_up = resolve(stamps, &config, &check.entry, &check.user, req.request()).await;
    let current = match looked_up {
        Ok(current) => current,
        Err(error) => {
            report_failure(&config, check.user, &error);
            let answer = response::unavailable(req.request(), RETRY_AFTER);
            return Ok(req.into_response(answer).map_into_right_body());
        }
    };
    match admit_at(req, &config, check.now, Some(current))? {
        Admitted::Answered(answer) => Ok(answer),
        Admitted::Passed(req, session, context) => {
            let res = service.call(req).await?;
            if context.awaits_on_the_way_out() {
                resolve_then_finish(res, session, context).await
            } else {
                finish(res, &session, &context)
            }
        }
        Admitted::LookUp(..) => Err(actix_web::error::ErrorInternalServerError(
            "a stamp looked up twice",
        )),
    }
}

/// The stamp of `user`: `entry`'s, looked up by this request unless another one does.
async fn resolve(
    stamps: &Stamps,
    config: &Configuration,
    entry: &Entry,
    user: &str,
    req: &HttpRequest,
) -> Result<Option<StampHash>, StampLookupError> {
    entry
        .resolve(config.data_owner_key.master(), || {
            stamps.lookup.lookup(user.to_owned(), req.clone())
        })
        .await
}

fn report_failure(config: &Configuration, user: String, error: &StampLookupError) {
    config.events.emit(&SessionEvent::StampLookupFailed {
        user,
        error: error.to_string(),
    });
}

/// On the way out: stamps a log-in, or re-stamps a session whose user's credentials changed.
/// `Some` answer replaces the handler's response (the lookup failed, or the user is gone: the
/// log-in does not stand).
pub(crate) async fn on_the_way_out(
    req: &HttpRequest,
    session: &Session,
    context: &RequestContext,
) -> Result<Option<HttpResponse>, ExpiryError> {
    let due = context.take_stamp_due();
    let config = &context.config;
    let (Some(stamps), Some(state)) = (&config.stamps, context.current()) else {
        return Ok(None);
    };
    if due == StampDue::None {
        return Ok(None);
    }
    if due == StampDue::Changed {
        // Every other session of the user on this instance compares with the new stamp next.
        stamps.cache.forget(&state.user);
    }
    let current = match stamps.cache.get(&state.user, context.arrived) {
        Cached::Known(current) => Ok(current),
        Cached::Lookup(entry) => resolve(stamps, config, &entry, &state.user, req).await,
    };
    match current {
        Err(error) => {
            report_failure(config, state.user.clone(), &error);
            if due == StampDue::LogIn {
                context.abandon_log_in(session);
            }
            Ok(Some(response::unavailable(req, RETRY_AFTER)))
        }
        Ok(None) => {
            if due == StampDue::LogIn {
                context.abandon_log_in(session);
            } else {
                context.end(
                    session,
                    Some(&EndedSession::from(&state)),
                    ExpiryReason::Revoked,
                );
            }
            let login = config.login_path.as_deref();
            Ok(Some(response::expired(req, ExpiryReason::Revoked, login)))
        }
        Ok(Some(stamp)) => {
            let (user, login) = (state.user.clone(), state.login.millis());
            let state = ExpiryState {
                stamp: Some(stamp),
                ..state
            };
            context.store(session, Snapshot::new(state, config))?;
            if due == StampDue::Changed {
                session.renew();
                config
                    .events
                    .emit(&SessionEvent::CredentialsChanged { user: user.clone() });
                // The user's other sessions' connections close, here and elsewhere.
                let others = Target::Others(Which::Login(login));
                let notice = Notice {
                    user: user.clone(),
                    reason: ExpiryReason::CredentialsChanged,
                    target: others,
                };
                config.events.live.end(notice).await;
                if let Some(publish) = stamps.publisher.get() {
                    publish(user).await;
                }
            }
            Ok(None)
        }
    }
}
