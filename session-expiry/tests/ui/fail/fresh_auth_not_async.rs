use session_expiry::fresh_auth;

#[fresh_auth(minutes = 10)]
fn handler() -> &'static str {
    "hi"
}

fn main() {}
