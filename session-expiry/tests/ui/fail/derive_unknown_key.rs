use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle_timeout(minutes = 10))]
    Admin,
    #[expiry(absolute(dayz = 5))]
    Member,
}

fn main() {}
