use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
struct Tier {
    level: u8,
}

fn main() {}
