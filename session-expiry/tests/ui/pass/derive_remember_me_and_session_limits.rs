//! Remember-me policies, explicit drops and session limits, as the runtime reads them.

use std::time::Duration;

use session_expiry::{ExpiryPolicy, Policy, ToPolicy};

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle(minutes = 10), absolute(hours = 8), max_sessions = 3)]
    Admin,
    #[expiry(
        idle(minutes = 30),
        remember(idle(unlimited), absolute(days = 30), max_sessions = unlimited),
    )]
    Member,
    #[expiry(unlimited)]
    Kiosk,
}

fn main() {
    const MIN: Duration = Duration::from_secs(60);
    let global = Policy::new().with_absolute(24 * 60 * MIN).with_max_sessions(100);
    assert_eq!(Tier::Admin.policy_for(true), Tier::Admin.to_policy());
    assert_eq!(Tier::Admin.to_policy().max_sessions(), Some(3));
    let member = Tier::Member.to_policy().or(global);
    assert_eq!((member.idle(), member.absolute()), (Some(30 * MIN), Some(24 * 60 * MIN)));
    let remembered = Tier::Member.policy_for(true).or(global);
    assert_eq!(remembered.idle(), None);
    assert_eq!(remembered.absolute(), Some(30 * 24 * 60 * MIN));
    assert_eq!(remembered.max_sessions(), None);
    let kiosk = Tier::Kiosk.to_policy().or(global);
    assert_eq!((kiosk.idle(), kiosk.absolute()), (None, None));
}
