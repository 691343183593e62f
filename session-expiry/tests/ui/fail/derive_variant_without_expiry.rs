use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle(minutes = 10))]
    Admin,
    Member,
}

fn main() {}
