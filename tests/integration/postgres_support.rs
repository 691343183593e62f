//! What the PostgreSQL tests share: a server of the test binary's own (Debian's `postgresql`:
//! `initdb` and `postgres` on a free port in a temporary directory, as the `postgres` user when
//! run as root), or the one at `POSTGRES_URL`/`DATABASE_URL`; a schema per test; a look at
//! `pg_stat_statements` and `pg_stat_user_tables`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        OnceLock,
    },
    time::{Duration, Instant},
};

use actix_http::Request;
use actix_session::{config::BrowserSession, SessionMiddleware};
use actix_web::{
    body::MessageBody,
    cookie::time::Duration as CookieDuration,
    dev::{Service, ServiceResponse},
    test, web, App,
};
use session_expiry::{
    config::SessionExpiryBuilder,
    postgres::{PostgresStore, PostgresStoreBuilder, RequestScope},
    SessionExpiry,
};
use tokio_postgres::NoTls;

use crate::{
    redis_support::{cookie_key, server_side_app},
    sessions, support,
};

/// A PostgreSQL server a test process started, stopped when dropped.
pub struct PgServer {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// Where Debian keeps the server's binaries: the newest `/usr/lib/postgresql/*/bin`.
fn bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    let found = versions
        .into_iter()
        .rev()
        .map(|dir| dir.join(name))
        .find(|path| path.exists());
    found.unwrap_or_else(|| {
        panic!(
            "PostgreSQL's `{name}` is missing: install it with `apt-get install -y postgresql` \
             (or set POSTGRES_URL to a server the tests may use)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` with `args`, as the `postgres` user when we are root (`initdb` refuses root).
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgServer {
    /// Initializes a cluster in a fresh temporary directory and starts it.
    pub fn start() -> Self {
        static SERVERS: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "session-expiry-pg-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown of {dir:?} to postgres failed");
        }
        let data = dir.join("data");
        let output = as_postgres(
            &bin("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        )
        .output()
        .unwrap_or_else(|error| panic!("initdb could not run: {error}"));
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut server = Self {
            dir,
            port: free_port(),
            child: None,
        };
        server.run();
        server
    }

    /// Starts the server on its port and waits until it accepts connections.
    pub fn run(&mut self) {
        let data = self.dir.join("data");
        let port = self.port.to_string();
        // Through a shell that waits on a pipe from this process: when the test binary exits
        // (a server in a `static` is never dropped), the pipe closes and the shell stops the
        // server (fast shutdown), so no server outlives its tests.
        let args = [
            "-D",
            data.to_str().unwrap(),
            "-p",
            &port,
            "-k",
            self.dir.to_str().unwrap(),
            "-h",
            "127.0.0.1",
            "-c",
            "shared_preload_libraries=pg_stat_statements",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ];
        let script = r#"pg="$1"; shift; "$pg" "$@" & child=$!; cat >/dev/null; kill -INT $child; wait $child"#;
        let postgres = bin("postgres");
        let mut shell_args = vec!["-c", script, "sh", postgres.to_str().unwrap()];
        shell_args.extend(args);
        let child = as_postgres(Path::new("/bin/sh"), &shell_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = as_postgres(&bin("pg_isready"), &["-h", "127.0.0.1", "-p", &port, "-q"])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown: connections are closed).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let data = self.dir.join("data");
            let _ = as_postgres(
                &bin("pg_ctl"),
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server of this test binary: `POSTGRES_URL` (or `DATABASE_URL`) when set, else one
/// started once for all the PostgreSQL tests of the process.
pub fn shared_url() -> String {
    static SERVER: OnceLock<(Option<PgServer>, String)> = OnceLock::new();
    let (_, url) = SERVER.get_or_init(|| {
        match std::env::var("POSTGRES_URL").or_else(|_| std::env::var("DATABASE_URL")) {
            Ok(url) => (None, url),
            Err(_) => {
                let server = PgServer::start();
                let url = server.url();
                (Some(server), url)
            }
        }
    });
    url.clone()
}

/// A schema no other test of this process uses.
fn own_schema() -> String {
    static TESTS: AtomicUsize = AtomicUsize::new(0);
    format!(
        "se_test_{}_{}",
        std::process::id(),
        TESTS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where a PostgreSQL test runs: a server, and a schema of the test's own.
pub struct PgTarget {
    pub url: String,
    pub schema: String,
    server: Option<PgServer>,
}

impl PgTarget {
    /// The shared server, a schema of the test's own.
    pub fn shared() -> Self {
        Self {
            url: shared_url(),
            schema: own_schema(),
            server: None,
        }
    }

    /// A server of the test's own, to stop and start again.
    pub fn own() -> Self {
        let server = PgServer::start();
        Self {
            url: server.url(),
            schema: own_schema(),
            server: Some(server),
        }
    }

    pub fn server(&mut self) -> &mut PgServer {
        self.server
            .as_mut()
            .expect("not a server of the test's own")
    }

    /// A store builder serving `middleware`, with short timeouts.
    pub fn builder_for(&self, middleware: &SessionExpiry) -> PostgresStoreBuilder {
        PostgresStore::builder(self.url.as_str())
            .schema(self.schema.as_str())
            .for_middleware(middleware)
            .timeout(Duration::from_millis(500))
            .retry_after(Duration::from_secs(2))
    }

    pub async fn store_for(&self, middleware: &SessionExpiry) -> PostgresStore {
        self.builder_for(middleware).build().await.unwrap()
    }

    /// A plain connection of the test's own.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        actix_web::rt::spawn(connection);
        client
    }

    /// How many statements on this test's table PostgreSQL ran, and how many rows they wrote
    /// (inserted, updated, deleted), from `pg_stat_statements`.
    pub async fn statements(&self) -> Counts {
        let client = self.connect().await;
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await
            .ok();
        let pattern = format!("%\"{}\".\"session_expiry\"%", self.schema);
        let rows = client
            .query(
                "SELECT query, calls, rows FROM pg_stat_statements WHERE query LIKE $1",
                &[&pattern],
            )
            .await
            .unwrap();
        let mut counts = Counts::default();
        for row in rows {
            let query: String = row.get(0);
            let calls: i64 = row.get(1);
            let written: i64 = row.get(2);
            let verb = query
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_uppercase();
            match verb.as_str() {
                "SELECT" => counts.selects += calls,
                "INSERT" | "UPDATE" | "DELETE" => {
                    counts.writes += calls;
                    counts.rows_written += written;
                }
                _ => {}
            }
            counts.statements += calls;
        }
        counts
    }
}

/// Statement counts of one test's table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub statements: i64,
    pub selects: i64,
    pub writes: i64,
    pub rows_written: i64,
}

impl std::ops::Sub for Counts {
    type Output = Self;
    fn sub(self, earlier: Self) -> Self {
        Self {
            statements: self.statements - earlier.statements,
            selects: self.selects - earlier.selects,
            writes: self.writes - earlier.writes,
            rows_written: self.rows_written - earlier.rows_written,
        }
    }
}

/// The PostgreSQL fixture app: the common test routes and the example's `/sessions` routes, on
/// `store`.
pub async fn pg_app(
    store: PostgresStore,
    expiry: SessionExpiry,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(store.registry()))
            .configure(support::routes)
            .configure(sessions::routes)
            .wrap(expiry)
            .wrap(
                SessionMiddleware::builder(store, cookie_key())
                    .cookie_secure(false)
                    .build(),
            )
            .wrap(RequestScope::new()),
    )
    .await
}

/// The suite's PostgreSQL app: [`pg_app`]'s routes with the body's own `extra` routes first,
/// a cart for sessions without a user, and remember-me, as the Redis fixture app has them.
///
/// actix-session's state TTL (the lifetime of a session with no deadline of its own) is ten
/// years here: PostgreSQL measures it by the app's clock, which the suite moves by up to
/// 1,000 days, where Redis counts a key's TTL in real time.
pub async fn pg_app_for(
    store: PostgresStore,
    expiry: SessionExpiry,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    let registry = store.registry();
    let ten_years = BrowserSession::default().state_ttl(CookieDuration::days(3650));
    server_side_app(
        store,
        registry,
        expiry,
        move |session| session.session_lifecycle(ten_years),
        extra,
    )
    .await
}

/// The middleware of a test: its builder, built.
pub fn built(builder: SessionExpiryBuilder) -> SessionExpiry {
    builder.build()
}
