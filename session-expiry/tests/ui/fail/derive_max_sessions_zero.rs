use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle(minutes = 10), max_sessions = 0)]
    Admin,
}

fn main() {}
