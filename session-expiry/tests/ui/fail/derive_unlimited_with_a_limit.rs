use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
enum Tier {
    #[expiry(unlimited, idle(minutes = 10))]
    Kiosk,
}

fn main() {}
