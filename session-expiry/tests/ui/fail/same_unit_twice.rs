use session_expiry::idle_timeout;

#[idle_timeout(minutes = 5, minutes = 10)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
