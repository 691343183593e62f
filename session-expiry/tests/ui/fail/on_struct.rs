use session_expiry::idle_timeout;

#[idle_timeout(minutes = 5)]
struct Handler;

fn main() {}
