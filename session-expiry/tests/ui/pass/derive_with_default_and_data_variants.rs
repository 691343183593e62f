//! A container-level default covers variants without their own `#[expiry]`; unit, tuple and
//! struct variants and generics all work.

use std::time::Duration;

use session_expiry::{ExpiryPolicy, Policy, ToPolicy};

#[derive(ExpiryPolicy)]
#[expiry(idle(minutes = 30), absolute(days = 5))]
enum Tier<T> {
    #[expiry(idle(minutes = 10), absolute(hours = 8))]
    Admin,
    Member(T),
    #[expiry(absolute(days = 30))]
    RememberMe { device: String },
    #[expiry(unlimited)]
    Service,
}

fn main() {
    assert_eq!(
        Tier::<u8>::Admin.to_policy(),
        Policy::new()
            .with_idle(Duration::from_secs(600))
            .with_absolute(Duration::from_secs(8 * 3600))
    );
    assert_eq!(Tier::Member(7_u8).to_policy().idle(), Some(Duration::from_secs(1800)));
    let remember = Tier::<u8>::RememberMe { device: "phone".into() }.to_policy();
    assert_eq!(remember.idle(), None);
    assert_eq!(Tier::<u8>::Service.to_policy(), Policy::unlimited());
}
