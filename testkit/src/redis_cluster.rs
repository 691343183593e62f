//! A throwaway Redis Cluster for the tests (and the benchmark): three masters, no replicas, on
//! free ports, in a directory of its own; killed and removed on drop, or when the process that
//! started it ends without dropping it (a cluster shared in a `static`).

use std::{
    ffi::OsStr,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::redis_server::{scratch_dir, spawn_server};

/// Masters in the cluster.
const MASTERS: usize = 3;
/// A node's cluster bus listens on its port plus this.
const BUS_OFFSET: u16 = 10_000;
/// How long the cluster may take to come up.
const STARTUP: Duration = Duration::from_secs(30);

/// A running Redis Cluster owned by the test.
pub struct RedisCluster {
    nodes: Vec<Node>,
    /// Stops the nodes and removes `dir` when this process ends, dropped or not.
    watchdog: Option<Watchdog>,
    dir: PathBuf,
}

struct Node {
    port: u16,
    child: Child,
}

/// `sh` waiting for its stdin to close (this process ending closes it) to kill the nodes by PID
/// and remove the cluster's directory.
struct Watchdog {
    child: Child,
    _stdin: ChildStdin,
}

impl RedisCluster {
    /// Starts three masters on free ports (each with a free cluster bus port too), joins them
    /// with `redis-cli --cluster create`, and waits until every node says `cluster_state:ok`.
    ///
    /// # Panics
    /// If `redis-server` or `redis-cli` is missing, or the cluster does not come up: cluster
    /// tests never skip silently.
    pub fn start() -> Self {
        let dir = scratch_dir("cluster");
        for _ in 0..5 {
            if let Some(cluster) = Self::launch(&dir) {
                cluster.create();
                return cluster;
            }
        }
        panic!("the Redis Cluster nodes did not start on free ports 5 times (logs in {dir:?})");
    }

    /// The URL of every master, `redis://127.0.0.1:<port>`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|node| url(node.port)).collect()
    }

    /// The master that serves `slot` now, as an index into [`urls`](Self::urls).
    pub fn owner(&self, slot: u16) -> usize {
        let id = self.slot_owner_id(slot);
        (0..self.nodes.len())
            .find(|&n| self.node_id(n) == id)
            .unwrap_or_else(|| panic!("no master serves slot {slot}"))
    }

    /// Runs `cmd` on master `n` (an index into [`urls`](Self::urls)).
    pub fn on_node<T: redis::FromRedisValue>(&self, n: usize, cmd: &redis::Cmd) -> T {
        let mut connection = connect(self.nodes[n].port)
            .unwrap_or_else(|error| panic!("cannot reach node {n}: {error}"));
        cmd.query(&mut connection)
            .unwrap_or_else(|error| panic!("node {n}: {cmd:?} failed: {error}"))
    }

    /// The cluster's id of master `n`.
    pub fn node_id(&self, n: usize) -> String {
        self.on_node(n, redis::cmd("CLUSTER").arg("MYID"))
    }

    /// Moves `slot` from its master to the next one as an operator's resharding does (`SETSLOT
    /// IMPORTING`/`MIGRATING`, `MIGRATE` key by key, `SETSLOT NODE` on every master), calling
    /// `before_key` before each key moves (a test's pause, or its look at the split slot).
    /// Returns the index of the new master.
    pub fn move_slot(&self, slot: u16, mut before_key: impl FnMut(&str)) -> usize {
        let from = self.owner(slot);
        let to = (from + 1) % self.nodes.len();
        let (from_id, to_id) = (self.node_id(from), self.node_id(to));
        let setslot = |state: &str, id: &str| {
            let mut cmd = redis::cmd("CLUSTER");
            cmd.arg("SETSLOT").arg(slot).arg(state).arg(id);
            cmd
        };
        let _: () = self.on_node(to, &setslot("IMPORTING", &from_id));
        let _: () = self.on_node(from, &setslot("MIGRATING", &to_id));
        loop {
            let keys: Vec<String> = self.on_node(
                from,
                redis::cmd("CLUSTER").arg("GETKEYSINSLOT").arg(slot).arg(1),
            );
            let Some(key) = keys.first() else { break };
            before_key(key);
            let mut migrate = redis::cmd("MIGRATE");
            migrate
                .arg("127.0.0.1")
                .arg(self.nodes[to].port)
                .arg("")
                .arg(0)
                .arg(5000)
                .arg("KEYS")
                .arg(key);
            let _: String = self.on_node(from, &migrate);
        }
        for n in std::iter::once(to).chain((0..self.nodes.len()).filter(|&n| n != to)) {
            let _: () = self.on_node(n, &setslot("NODE", &to_id));
        }
        to
    }

    fn slot_owner_id(&self, slot: u16) -> String {
        let nodes: String = self.on_node(0, redis::cmd("CLUSTER").arg("NODES"));
        nodes
            .lines()
            .find(|line| {
                line.split(' ').skip(8).any(|range| {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    matches!(
                        (low.parse::<u16>(), high.parse::<u16>()),
                        (Ok(low), Ok(high)) if (low..=high).contains(&slot)
                    )
                })
            })
            .and_then(|line| line.split(' ').next())
            .unwrap_or_else(|| panic!("no node serves slot {slot}:\n{nodes}"))
            .to_owned()
    }

    /// Starts the nodes; `None` if one could not listen on its port (taken meanwhile).
    fn launch(dir: &Path) -> Option<Self> {
        let _ = std::fs::remove_dir_all(dir);
        let mut cluster = Self {
            nodes: Vec::new(),
            watchdog: None,
            dir: dir.to_owned(),
        };
        for port in free_ports(MASTERS) {
            let node_dir = dir.join(port.to_string());
            std::fs::create_dir_all(&node_dir).expect("cannot create a directory for a node");
            let nodes_conf = node_dir.join("nodes.conf");
            let cluster_args = [
                OsStr::new("--cluster-enabled"),
                OsStr::new("yes"),
                OsStr::new("--cluster-config-file"),
                nodes_conf.as_os_str(),
            ];
            let child = spawn_server(port, &node_dir, cluster_args);
            cluster.nodes.push(Node { port, child });
        }
        cluster.watchdog = Some(Watchdog::start(dir, &cluster.nodes));
        let deadline = Instant::now() + STARTUP;
        for node in &mut cluster.nodes {
            while connect(node.port).is_err() {
                if node.child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    return None; // the port was taken meanwhile: dropped, so torn down
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        Some(cluster)
    }

    /// Joins the nodes into one cluster and waits until it serves every slot.
    fn create(&self) {
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(
                self.nodes
                    .iter()
                    .map(|node| format!("127.0.0.1:{}", node.port)),
            )
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "the Redis Cluster tests need `redis-cli` on PATH: `apt-get install redis-server` \
                 (`redis-tools` on systems that package it apart)"
            ),
            Err(error) => panic!("cannot run redis-cli: {error}"),
        };
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let deadline = Instant::now() + STARTUP;
        for node in &self.nodes {
            loop {
                let info = connect(node.port)
                    .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c));
                let ready = info.as_deref().is_ok_and(|info| {
                    info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                });
                if ready {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} did not reach cluster_state:ok: {info:?}",
                    node.port
                );
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        // The watchdog first: once it is gone, no one else kills these PIDs.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.child.kill();
            let _ = watchdog.child.wait();
        }
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Watchdog {
    fn start(dir: &Path, nodes: &[Node]) -> Self {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"read -r _; kill -9 "$@" 2>/dev/null; rm -rf -- "$0""#)
            .arg(dir)
            .args(nodes.iter().map(|node| node.child.id().to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start sh");
        // Nothing is ever written: `read` returns when this process closes the pipe.
        let stdin = child.stdin.take().expect("a piped stdin");
        Self {
            child,
            _stdin: stdin,
        }
    }
}

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

fn connect(port: u16) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url(port))?.get_connection_with_timeout(Duration::from_millis(500))
}

/// `count` distinct free ports whose cluster bus port (+10000) is free too.
fn free_ports(count: usize) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() < count {
        let listener = TcpListener::bind("127.0.0.1:0").expect("no free port on 127.0.0.1");
        let port = listener.local_addr().expect("a bound address").port();
        let bus_free = port
            .checked_add(BUS_OFFSET)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok());
        let apart = ports
            .iter()
            .all(|&other| other != port && other.abs_diff(port) != BUS_OFFSET);
        if bus_free && apart {
            ports.push(port);
        }
    }
    ports
}
