use session_expiry::{absolute_timeout, idle_timeout};

#[idle_timeout]
async fn bare() -> &'static str {
    "hi"
}

#[absolute_timeout()]
async fn empty() -> &'static str {
    "hi"
}

fn main() {}
