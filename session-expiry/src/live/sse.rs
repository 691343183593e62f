//! [`SseUntilEnd`]: a server-sent-event body that ends with the session.

use std::{
    future::Future as _,
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::web::Bytes;
use futures_core::Stream;

use super::SessionEnd;

/// Forwards `events` until `end` completes, then sends the `session-expired` event
/// ([`ExpiryReason::sse_event`](crate::ExpiryReason::sse_event)) and ends the stream. A stream
/// that ends first ends the body as it would have.
///
/// # Examples
/// ```
/// use actix_web::{get, web::Bytes, HttpResponse};
/// use session_expiry::{live, SignedIn};
///
/// #[get("/events")]
/// async fn events(who: SignedIn) -> HttpResponse {
///     let hello = futures_util::stream::iter([Ok::<_, actix_web::Error>(Bytes::from("data: hi\n\n"))]);
///     HttpResponse::Ok()
///         .content_type("text/event-stream")
///         .streaming(live::sse_until_end(hello, who.ended()))
/// }
/// ```
pub fn sse_until_end<S, E>(events: S, end: SessionEnd) -> SseUntilEnd<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    SseUntilEnd {
        events: Box::pin(events),
        end: Some(end),
        done: false,
    }
}

/// The stream of [`sse_until_end`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct SseUntilEnd<S> {
    /// Pinned here, so that any stream will do (an `async` one is not `Unpin`).
    events: Pin<Box<S>>,
    /// `None` once it completed and its event went out.
    end: Option<SessionEnd>,
    done: bool,
}

impl<S, E> Stream for SseUntilEnd<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(end) = &mut this.end {
            if let Poll::Ready(reason) = Pin::new(end).poll(cx) {
                this.end = None;
                this.done = true;
                return Poll::Ready(Some(Ok(reason.sse_event())));
            }
        }
        match this.events.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                this.done = true;
                this.end = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}
