use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(idle(minutes = 30), remember(absolute(days = 30), remember(idle(unlimited))))]
    Member,
}

fn main() {}
