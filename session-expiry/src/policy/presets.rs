//! [`Policy`] presets from published guidance (NIST SP 800-63B, OWASP).

use std::time::Duration;

use super::Policy;

/// Presets from published guidance.
impl Policy {
    const HOUR: Duration = Duration::from_secs(3600);

    /// NIST SP 800-63B rev. 4, authenticator assurance level 1: reauthenticate at least every
    /// 30 days, no inactivity limit required.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 1", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal1 = session_expiry::Policy::nist_aal1();
    /// assert_eq!(aal1.absolute(), Some(Duration::from_secs(30 * 24 * 3600)));
    /// assert_eq!(aal1.idle(), None);
    /// ```
    #[must_use]
    pub const fn nist_aal1() -> Self {
        Self::new()
            .without_idle()
            .with_absolute(Duration::from_secs(30 * 24 * 3600))
    }

    /// NIST SP 800-63B rev. 4, authenticator assurance level 2: reauthenticate at least every
    /// 24 hours overall and after 1 hour of inactivity.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 2", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal2 = session_expiry::Policy::nist_aal2();
    /// assert_eq!(aal2.absolute(), Some(Duration::from_secs(24 * 3600)));
    /// assert_eq!(aal2.idle(), Some(Duration::from_secs(3600)));
    /// ```
    #[must_use]
    pub const fn nist_aal2() -> Self {
        Self::new()
            .with_absolute(Duration::from_secs(24 * 3600))
            .with_idle(Self::HOUR)
    }

    /// NIST SP 800-63B rev. 4, authenticator assurance level 3: reauthenticate at least every
    /// 12 hours overall and after 15 minutes of inactivity.
    ///
    /// Source: NIST SP 800-63B-4, "Authenticator Assurance Level 3", reauthentication
    /// (<https://pages.nist.gov/800-63-4/sp800-63b.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let aal3 = session_expiry::Policy::nist_aal3();
    /// assert_eq!(aal3.absolute(), Some(Duration::from_secs(12 * 3600)));
    /// assert_eq!(aal3.idle(), Some(Duration::from_secs(15 * 60)));
    /// ```
    #[must_use]
    pub const fn nist_aal3() -> Self {
        Self::new()
            .with_absolute(Duration::from_secs(12 * 3600))
            .with_idle(Duration::from_secs(15 * 60))
    }

    /// For high-value applications, after the OWASP Session Management Cheat Sheet ("2-5
    /// minutes for high-value applications" idle; an absolute limit of a working day): 5 minutes
    /// idle, 8 hours absolute.
    ///
    /// Source: OWASP Session Management Cheat Sheet, "Session Expiration"
    /// (<https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html>).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let strict = session_expiry::Policy::high_value();
    /// assert_eq!(strict.idle(), Some(Duration::from_secs(300)));
    /// assert_eq!(strict.absolute(), Some(Duration::from_secs(8 * 3600)));
    /// ```
    #[must_use]
    pub const fn high_value() -> Self {
        Self::new()
            .with_idle(Duration::from_secs(5 * 60))
            .with_absolute(Duration::from_secs(8 * 3600))
    }
}
