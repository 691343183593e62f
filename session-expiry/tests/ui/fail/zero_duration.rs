use session_expiry::idle_timeout;

#[idle_timeout(minutes = 0)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
