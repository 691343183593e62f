use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle(minutes = 0), absolute(hours = 8))]
    Admin,
}

fn main() {}
