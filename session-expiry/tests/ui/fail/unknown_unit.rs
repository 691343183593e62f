use session_expiry::idle_timeout;

#[idle_timeout(mins = 5)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
