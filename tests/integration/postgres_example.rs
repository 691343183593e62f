//! The PostgreSQL example's password change, as a user of two instances of it sees it: the
//! demo's accounts in the database, so the new password holds on every instance and the other
//! devices are signed out there within the example's stamp check interval (a second).

use std::time::Duration;

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{config::SessionExpiryBuilder, MockClock};

use crate::{
    postgres_support::PgTarget,
    support::{
        assert_expired, demo_change_password, demo_instance, demo_log_in,
        the_new_password_holds_on_the_other_instance,
    },
};

#[actix_web::test]
async fn the_postgres_examples_password_change_holds_on_the_other_instance_and_signs_out_there() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    // The postgres example's app: the demo's accounts in the test's schema, stamps looked at
    // every second.
    let accounts = || async {
        crate::demo::Accounts::on_postgres(&target.url, &target.schema)
            .await
            .unwrap()
    };
    let every_second =
        |expiry: SessionExpiryBuilder| expiry.stamp_check_interval(Duration::from_secs(1));
    let first = demo_instance!(target, accounts().await, &clock, every_second);
    let second = demo_instance!(target, accounts().await, &clock, every_second);
    assert_eq!(
        second.json(demo_log_in("password")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        first.json(demo_log_in("password")).await.status,
        StatusCode::OK
    );
    let moved = first.cookie();

    demo_change_password(&first).await;
    // The other instance looks at the stamp again a second later.
    clock.advance(Duration::from_secs(1));
    assert_expired(
        &second.json(TestRequest::get().uri("/")).await,
        "credentials_changed",
    );
    the_new_password_holds_on_the_other_instance(&first, &second, moved).await;
}
