use session_expiry::passive;

#[passive(minutes = 5)]
async fn handler() -> &'static str {
    "hi"
}

fn main() {}
