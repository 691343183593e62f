//! A throwaway `redis-server` for one test (or one benchmark run): its own free port, its own
//! directory, no persistence unless asked, killed on drop.

use std::{
    ffi::OsStr,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

/// A running `redis-server` owned by the test.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port.
    ///
    /// # Panics
    /// If `redis-server` is not installed or does not come up: Redis tests never skip silently.
    pub fn start() -> Self {
        let dir = scratch_dir("redis");
        std::fs::create_dir_all(&dir).expect("cannot create a directory for redis-server");
        for _ in 0..5 {
            let port = free_port();
            let mut server = Self {
                child: None,
                port,
                dir: dir.clone(),
            };
            if server.launch() {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free ports (see its log in {dir:?})");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server as an operator would (`SHUTDOWN SAVE`: its data is kept for
    /// [`restart`](Self::restart)); clients get refused connections until then.
    pub fn stop(&mut self) {
        if let Ok(client) = redis::Client::open(self.url()) {
            if let Ok(mut connection) = client.get_connection() {
                // The server closes the connection instead of answering.
                let _: redis::RedisResult<()> =
                    redis::cmd("SHUTDOWN").arg("SAVE").query(&mut connection);
            }
        }
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again, on the same port and with the data it saved when it stopped.
    ///
    /// # Panics
    /// If it does not come up.
    pub fn restart(&mut self) {
        assert!(self.launch(), "redis-server did not restart on its port");
    }

    /// Freezes the server (`SIGSTOP`): connections stay open, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Unfreezes a paused server (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server is not running");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    fn launch(&mut self) -> bool {
        self.child = Some(spawn_server(self.port, &self.dir, [""; 0]));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return true;
            }
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    self.child = None;
                    return false; // the port was taken meanwhile
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection))
            .is_ok()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL ends a paused server too
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory of its own for a Redis deployment of this process, `kind` naming it.
pub fn scratch_dir(kind: &str) -> PathBuf {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("session-expiry-{kind}-{}-{n}", std::process::id()))
}

/// Starts `redis-server` on `port`, without persistence, its files and log in `dir`, with
/// `extra` arguments.
///
/// # Panics
/// If `redis-server` is not installed: Redis tests never skip silently.
pub fn spawn_server(
    port: u16,
    dir: &Path,
    extra: impl IntoIterator<Item = impl AsRef<OsStr>>,
) -> Child {
    let log = std::fs::File::create(dir.join("redis.log")).expect("cannot create a log");
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
            "the Redis tests need a `redis-server` binary on PATH: `apt-get install \
             redis-server` (or set REDIS_URL for the single-node tests that can share one)"
        ),
        Err(error) => panic!("cannot start redis-server: {error}"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free port on 127.0.0.1")
}
