use session_expiry::absolute_timeout;

#[absolute_timeout(days = 18446744073709551615)]
async fn handler() -> &'static str {
    "hi"
}

#[absolute_timeout(seconds = 18446744073709551616)]
async fn too_big_literal() -> &'static str {
    "hi"
}

fn main() {}
