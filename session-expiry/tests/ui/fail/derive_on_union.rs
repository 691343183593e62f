use session_expiry::ExpiryPolicy;

#[derive(ExpiryPolicy)]
union Tier {
    level: u8,
    flags: u8,
}

fn main() {}
