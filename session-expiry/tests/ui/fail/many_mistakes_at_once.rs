use session_expiry::idle_timeout;

// Every mistake is reported, each at its own token.
#[idle_timeout(hrs = 1, minutes = 0, seconds = 2.5)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
