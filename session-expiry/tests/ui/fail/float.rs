use session_expiry::absolute_timeout;

#[absolute_timeout(hours = 1.5)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
