//! Listing a user's sessions one page at a time: which page ([`Page`]), what comes back
//! ([`SessionPage`]), and where the next one starts ([`PageCursor`]).

use std::{fmt, str::FromStr};

use super::{SessionId, SessionInfo};

/// The most sessions one page holds: what a limit above it is taken for.
///
/// # Examples
/// ```
/// use session_expiry::registry::{Page, MAX_PAGE_SIZE};
/// assert_eq!(Page::new(MAX_PAGE_SIZE + 1).limit(), MAX_PAGE_SIZE);
/// ```
pub const MAX_PAGE_SIZE: usize = 100;

/// The page size of [`Page::default`].
const DEFAULT_PAGE_SIZE: usize = 20;

/// Which page of a user's sessions [`SessionRegistry::list`](super::SessionRegistry::list)
/// returns: the first, or the one after a [`PageCursor`]; how many sessions at most; and which
/// session is the caller's own (marked [`current`](SessionInfo::current)).
///
/// # Examples
/// ```
/// use session_expiry::registry::Page;
///
/// let first = Page::new(20);
/// assert_eq!(first.limit(), 20);
/// assert_eq!(Page::new(1_000).limit(), session_expiry::registry::MAX_PAGE_SIZE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    after: Option<PageCursor>,
    limit: usize,
    current: Option<SessionId>,
}

impl Default for Page {
    /// The first page, of 20 sessions.
    fn default() -> Self {
        Self::new(DEFAULT_PAGE_SIZE)
    }
}

impl Page {
    /// The first page, of at most `limit` sessions (at least one, at most [`MAX_PAGE_SIZE`]).
    ///
    /// # Examples
    /// ```
    /// let page = session_expiry::registry::Page::new(10);
    /// ```
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            after: None,
            limit: limit.clamp(1, MAX_PAGE_SIZE),
            current: None,
        }
    }

    /// The page that follows the one `cursor` came with (`None`: the first page).
    ///
    /// # Examples
    /// ```
    /// use session_expiry::registry::{Page, PageCursor};
    ///
    /// let cursor: PageCursor = "1735689600000.0123456789abcdef0123456789abcdef".parse()?;
    /// let next = Page::new(20).after(cursor);
    /// # Ok::<(), session_expiry::registry::InvalidPageCursor>(())
    /// ```
    #[must_use]
    pub fn after(mut self, cursor: impl Into<Option<PageCursor>>) -> Self {
        self.after = cursor.into();
        self
    }

    /// Marks the session `id` as the caller's own in the page (from the [`SessionId`]
    /// extractor; `None`: none).
    ///
    /// # Examples
    /// ```
    /// use session_expiry::registry::{Page, SessionId};
    ///
    /// # fn f(current: Option<SessionId>) {
    /// let page = Page::new(20).current(current);
    /// # }
    /// ```
    #[must_use]
    pub fn current(mut self, id: impl Into<Option<SessionId>>) -> Self {
        self.current = id.into();
        self
    }

    /// How many sessions the page holds at most.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::registry::Page::new(0).limit(), 1);
    /// ```
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn cursor(&self) -> Option<&PageCursor> {
        self.after.as_ref()
    }

    pub(crate) fn current_id(&self) -> Option<&SessionId> {
        self.current.as_ref()
    }
}

/// One page of a user's live sessions, most recently active first, from
/// [`SessionRegistry::list`](super::SessionRegistry::list).
///
/// A session that ended after the page before was read is left out (so a page may hold fewer
/// sessions than its limit while `next` is set); one that became active since moves to the
/// first page.
///
/// # Examples
/// ```no_run
/// use session_expiry::registry::{Page, SessionRegistry};
///
/// # async fn run(registry: SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
/// let mut page = registry.list("alice", Page::new(50)).await?;
/// loop {
///     for session in &page.sessions {
///         println!("{:?} since {}", session.device, session.logged_in_at);
///     }
///     let Some(next) = page.next else { break };
///     page = registry.list("alice", Page::new(50).after(next)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SessionPage {
    /// The sessions, most recently active first.
    pub sessions: Vec<SessionInfo>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// Where the next page of a user's sessions starts: the last activity and the id of the last
/// session the page before looked at. A keyset, not an offset: sessions added or removed
/// meanwhile neither repeat nor skip any other session.
///
/// As text (for a `?cursor=` query parameter, or JSON) it is `<Unix ms>.<session id>`.
///
/// # Examples
/// ```
/// use session_expiry::registry::PageCursor;
///
/// let text = "1735689600000.0123456789abcdef0123456789abcdef";
/// let cursor: PageCursor = text.parse()?;
/// assert_eq!(cursor.to_string(), text);
/// assert!("page-2".parse::<PageCursor>().is_err());
/// # Ok::<(), session_expiry::registry::InvalidPageCursor>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageCursor {
    /// Last activity, Unix ms.
    activity: u64,
    id: SessionId,
}

/// The longest activity a cursor names, in digits: any instant below 2^53 ms (exact in Lua).
const MAX_ACTIVITY_DIGITS: usize = 15;

impl PageCursor {
    /// The cursor after the session `id` last active at `activity` (Unix ms).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn at(activity: u64, id: SessionId) -> Self {
        Self { activity, id }
    }

    /// Where the cursor stands: the activity (Unix ms) and the id of the last session listed.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn position(&self) -> (u64, &SessionId) {
        (self.activity, &self.id)
    }

    /// The cursor the list script answered: activity (digits) and id; `None` if malformed.
    #[cfg(feature = "redis")]
    pub(crate) fn from_script(activity: &str, id: &str) -> Option<Self> {
        format!("{activity}.{id}").parse().ok()
    }

    /// The scripts' cursor arguments: activity and id, both empty for the first page.
    #[cfg(feature = "redis")]
    pub(crate) fn args(cursor: Option<&Self>) -> (String, &str) {
        match cursor {
            Some(cursor) => (cursor.activity.to_string(), cursor.id.as_str()),
            None => (String::new(), ""),
        }
    }
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.activity, self.id)
    }
}

impl serde::Serialize for PageCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The error of parsing text that is not a [`PageCursor`].
///
/// # Examples
/// ```
/// use session_expiry::registry::PageCursor;
/// let error = "2".parse::<PageCursor>().unwrap_err();
/// assert_eq!(error.to_string(), "a page cursor is `<Unix ms>.<session id>`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a page cursor is `<Unix ms>.<session id>`")]
pub struct InvalidPageCursor;

impl FromStr for PageCursor {
    type Err = InvalidPageCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (activity, id) = s.split_once('.').ok_or(InvalidPageCursor)?;
        // Digits only (no sign, no exponent): the scripts hand it to Redis as a score.
        if activity.is_empty()
            || activity.len() > MAX_ACTIVITY_DIGITS
            || !activity.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(InvalidPageCursor);
        }
        Ok(Self {
            activity: activity.parse().map_err(|_| InvalidPageCursor)?,
            id: id.parse().map_err(|_| InvalidPageCursor)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_cursor_survives_text_and_refuses_anything_else() {
        let cursor: PageCursor = format!("1735689600000.{ID}").parse().unwrap();
        assert_eq!(cursor.to_string().parse::<PageCursor>(), Ok(cursor.clone()));
        assert_eq!(
            serde_json::to_string(&cursor).unwrap(),
            format!("\"1735689600000.{ID}\"")
        );
        for bad in [
            String::new(),
            ".".into(),
            ID.into(),
            format!(".{ID}"),
            format!("-1.{ID}"),
            format!("+1.{ID}"),
            format!("1e3.{ID}"),
            format!("1.5.{ID}"),
            format!("{}.{ID}", "9".repeat(16)),
            "1.xyz".into(),
        ] {
            assert_eq!(bad.parse::<PageCursor>(), Err(InvalidPageCursor), "{bad}");
        }
    }

    #[test]
    fn a_page_keeps_its_limit_between_one_and_the_maximum() {
        assert_eq!(Page::new(0).limit(), 1);
        assert_eq!(Page::new(7).limit(), 7);
        assert_eq!(Page::new(usize::MAX).limit(), MAX_PAGE_SIZE);
        assert_eq!(Page::default().limit(), DEFAULT_PAGE_SIZE);
        #[cfg(feature = "redis")]
        assert_eq!(PageCursor::args(None), (String::new(), ""));
    }
}
