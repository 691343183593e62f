use session_expiry::fresh_auth;

#[fresh_auth(mins = 10)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
