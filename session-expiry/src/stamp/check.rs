//! The security stamp at work on a request: judged on the way in (from the cache, or after one
//! shared lookup), taken on the way out of a log-in or a credentials change. The store's
//! "valid from" instant is read on the same rare way in that awaits.

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
    /// Something to read first, then judge again.
    Wait(Pending),
}

/// What a request waits for before it is judged.
pub(crate) enum Pending {
    /// The user's stamp, not in the cache: look it up.
    Stamp(Arc<Entry>),
    /// The store's "valid from" instant, due to be read (once per interval per process).
    ValidFrom,
}

/// Judges `state` at `now` by the global "valid from" and the user's stamp: the cached one, or
/// `looked_up` when the request has just looked it up.
pub(crate) fn on_arrival(
    config: &Configuration,
    state: &ExpiryState,
    now: UnixMs,
    looked_up: Option<Option<StampHash>>,
) -> Arrival {
    if looked_up.is_none() && config.valid_from.claim_read(now) {
        return Arrival::Wait(Pending::ValidFrom);
    }
    if state.login.millis() < config.valid_from.millis() {
        return Arrival::Ended(ExpiryReason::Revoked);
    }
    let Some(stamps) = &config.stamps else {
        return Arrival::Pass;
    };
    let current = match looked_up {
        Some(current) => current,
        None => match stamps.cache.get(&state.user, now) {
            Cached::Known(current) => current,
            Cached::Lookup(entry) => return Arrival::Wait(Pending::Stamp(entry)),
        },
    };
    match current {
        None => Arrival::Ended(ExpiryReason::Revoked),
        Some(stamp) if state.stamp == Some(stamp) => Arrival::Pass,
        Some(_) => Arrival::Ended(ExpiryReason::CredentialsChanged),
    }
}

/// A request that waits for its user's stamp or the store's "valid from" before it is judged.
pub(crate) struct StampCheck {
    pub(crate) pending: Pending,
    pub(crate) user: String,
    /// When the request arrived: it is judged by that instant after the wait too.
    pub(crate) now: UnixMs,
}

/// Reads what the request waits for (the stamp: or waits for the request that looks it up),
/// then admits the request and runs the app: the rare way in that awaits. A request may wait
/// for both, the instant first.
pub(crate) async fn look_up_then_call<S, B>(
    service: Rc<S>,
    mut req: ServiceRequest,
    config: Arc<Configuration>,
    mut check: StampCheck,
) -> Outcome<B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let mut looked_up = None;
    loop {
        match check.pending {
            Pending::ValidFrom => config.valid_from.read(check.now).await,
            Pending::Stamp(entry) => {
                let Some(stamps) = &config.stamps else {
                    return Err(actix_web::error::ErrorInternalServerError(
                        "a stamp check without a stamp lookup",
                    ));
                };
                match resolve(stamps, &config, &entry, &check.user, req.request()).await {
                    Ok(current) => looked_up = Some(current),
                    Err(error) => {
                        report_failure(&config, check.user, &error);
                        let answer = response::unavailable(req.request(), RETRY_AFTER);
                        return Ok(req.into_response(answer).map_into_right_body());
                    }
                }
            }
        }
        match admit_at(req, &config, check.now, looked_up)? {
            Admitted::Answered(answer) => return Ok(answer),
            Admitted::Passed(req, session, context) => {
                let res = service.call(req).await?;
                return if context.awaits_on_the_way_out() {
                    resolve_then_finish(res, session, context).await
                } else {
                    finish(res, &session, &context)
                };
            }
            // Only a stamp after the instant: the instant is claimed once per interval, and
            // a looked-up stamp is judged as it is.
            Admitted::LookUp(again, next)
                if looked_up.is_none() && matches!(next.pending, Pending::Stamp(_)) =>
            {
                (req, check) = (again, next);
            }
            Admitted::LookUp(..) => {
                return Err(actix_web::error::ErrorInternalServerError(
                    "a request waited twice for the same thing",
                ))
            }
        }
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
                config.events.live.renewed(&user, login);
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
