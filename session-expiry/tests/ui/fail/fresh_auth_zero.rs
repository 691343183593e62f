use session_expiry::fresh_auth;

#[fresh_auth(minutes = 0)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
