//! A user's hash slot moving to another master while their requests run: MOVED and ASK
//! redirections, and TRYAGAIN while the user's keys are split between two nodes, fail no request
//! and lose no registry entry. On a cluster of the test's own: resharding changes it.

use std::{
    cell::RefCell,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    http::{header, StatusCode},
    test::TestRequest,
};
use futures_util::{stream::FuturesUnordered, StreamExt as _};
use session_expiry::MockClock;

use crate::{
    redis_cluster::RedisCluster,
    redis_support::{redis_app, Target},
    support::{capture_logs, expiry, logs, whoami, Answer, Client},
};

/// The user whose slot moves.
const USER: &str = "mover";
/// Sessions of the user signed in before the slot moves.
const VICTIMS: usize = 8;
/// The pause before each key moves: requests meet the slot split meanwhile.
const PACE: Duration = Duration::from_millis(30);

fn login() -> TestRequest {
    TestRequest::post()
        .uri(&format!("/login/{USER}"))
        .insert_header((header::USER_AGENT, "resharding"))
}

fn sessions() -> TestRequest {
    TestRequest::get().uri("/sessions")
}

/// What one request of the traffic got, for the final check.
type Outcome = Result<(), String>;

/// What the thread moving the slot tells the traffic.
enum Event {
    /// Key `n` of move `round` is about to move.
    Key { round: usize, n: usize },
    /// A move is over; the thread waits until the requests it started are answered.
    Moved,
}

/// The requests the traffic makes, one per key about to move.
#[derive(Debug, Clone, Copy)]
enum Request {
    List,
    KeepAlive,
    WhoAmI,
    /// Revoke that victim (`DELETE /sessions/{id}`), then check it is revoked.
    Revoke(usize),
    /// That victim logs out, then is anonymous.
    LogOut(usize),
    /// A new session of the user: signs in, then is signed in.
    Join,
    /// Every session of the user but the main one.
    RevokeOthers,
}

/// The first move's requests touch single sessions and create new ones; the second's start
/// with revoking every other session, then use the main one.
fn schedule(round: usize, n: usize) -> Request {
    match (round, n % 5, n / 5) {
        (0, 0, _) => Request::List,
        (0, 1, _) => Request::KeepAlive,
        (0, 2, victim) if victim < VICTIMS && victim % 2 == 0 => Request::Revoke(victim),
        (0, 2, victim) if victim < VICTIMS => Request::LogOut(victim),
        (0, 3, _) => Request::Join,
        (_, 0, 0) => Request::RevokeOthers,
        (_, 1 | 3, _) => Request::List,
        (_, 2, _) => Request::KeepAlive,
        _ => Request::WhoAmI,
    }
}

/// The people in the test: the main session, the victims (with their registry ids), and the
/// cookies of the sessions that joined.
struct Crowd<S> {
    app: S,
    main: Client<S>,
    victims: Vec<(Client<S>, String)>,
    joined: RefCell<Vec<Option<Cookie<'static>>>>,
}

impl<S, B> Crowd<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error> + Copy,
    B: MessageBody + 'static,
{
    async fn new(app: S) -> Self {
        let main = Client::new(app);
        expect("log-in", &main.json(login()).await, StatusCode::OK).unwrap();
        let mut victims = Vec::new();
        for _ in 0..VICTIMS {
            let victim = Client::new(app);
            expect("log-in", &victim.json(login()).await, StatusCode::OK).unwrap();
            let mine = victim.json(sessions()).await.json()["sessions"].clone();
            let current = mine
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["current"] == true);
            let id = current.unwrap()["id"].as_str().unwrap().to_owned();
            victims.push((victim, id));
        }
        let listed = main.json(sessions()).await.json()["sessions"].clone();
        assert_eq!(listed.as_array().unwrap().len(), VICTIMS + 1);
        Self {
            app,
            main,
            victims,
            joined: RefCell::new(Vec::new()),
        }
    }

    async fn send(&self, request: Request) -> Outcome {
        let main = &self.main;
        match request {
            Request::List => {
                let answer = main.json(sessions()).await;
                expect("list", &answer, StatusCode::OK)?;
                let listed = answer.json()["sessions"].clone();
                if listed
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["current"] == true)
                {
                    Ok(())
                } else {
                    Err(format!("list without the current session: {answer:?}"))
                }
            }
            Request::KeepAlive => {
                let answer = main
                    .json(TestRequest::post().uri("/session/keepalive"))
                    .await;
                expect("keep-alive", &answer, StatusCode::NO_CONTENT)
            }
            Request::WhoAmI => expect_user("whoami", &main.json(whoami()).await, Some(USER)),
            Request::Revoke(victim) => {
                let (client, id) = &self.victims[victim];
                let answer = main
                    .json(TestRequest::delete().uri(&format!("/sessions/{id}")))
                    .await;
                expect("revoke one", &answer, StatusCode::NO_CONTENT)?;
                expect(
                    "revoked",
                    &client.json(whoami()).await,
                    StatusCode::UNAUTHORIZED,
                )
            }
            Request::LogOut(victim) => {
                let client = &self.victims[victim].0;
                let answer = client.json(TestRequest::post().uri("/logout")).await;
                expect("log-out", &answer, StatusCode::NO_CONTENT)?;
                expect_user("logged out", &client.json(whoami()).await, None)
            }
            Request::Join => {
                let joiner = Client::new(self.app);
                expect("log-in", &joiner.json(login()).await, StatusCode::OK)?;
                expect_user("signed in", &joiner.json(whoami()).await, Some(USER))?;
                self.joined.borrow_mut().push(joiner.cookie());
                Ok(())
            }
            Request::RevokeOthers => {
                let answer = main
                    .json(TestRequest::post().uri("/sessions/revoke-others"))
                    .await;
                expect("revoke others", &answer, StatusCode::OK)?;
                match answer.json()["revoked"].as_u64() {
                    Some(n) if n > 0 => Ok(()),
                    _ => Err(format!("revoke others revoked nothing: {answer:?}")),
                }
            }
        }
    }

    /// How many of the crowd's sessions still work (the main one included).
    async fn live(&self) -> usize {
        let mut live = 0;
        let clients = std::iter::once(&self.main).chain(self.victims.iter().map(|(c, _)| c));
        for client in clients {
            live += usize::from(client.json(whoami()).await.json()["user"] == USER);
        }
        let joiner = Client::new(self.app);
        let joined = self.joined.borrow().clone();
        for cookie in joined {
            joiner.set_cookie(cookie);
            live += usize::from(joiner.json(whoami()).await.json()["user"] == USER);
        }
        live
    }
}

fn expect(what: &str, answer: &Answer, status: StatusCode) -> Outcome {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!("{what}: expected {status}, got {answer:?}"))
    }
}

fn expect_user(what: &str, answer: &Answer, user: Option<&str>) -> Outcome {
    expect(what, answer, StatusCode::OK)?;
    if answer.json()["user"].as_str() == user {
        Ok(())
    } else {
        Err(format!("{what}: expected user {user:?}, got {answer:?}"))
    }
}

/// How often the masters answered a redirection or TRYAGAIN, summed over `INFO errorstats`.
fn redirections(cluster: &RedisCluster) -> [u64; 3] {
    let mut counts = [0; 3];
    for n in 0..cluster.urls().len() {
        let stats: String = cluster.on_node(n, redis::cmd("INFO").arg("errorstats"));
        for (count, name) in counts.iter_mut().zip(["MOVED", "ASK", "TRYAGAIN"]) {
            *count += stats
                .lines()
                .find_map(|line| line.strip_prefix(&format!("errorstat_{name}:count=")))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    counts
}

#[actix_web::test]
async fn requests_succeed_while_their_users_slot_moves_to_another_master() {
    let (_guard, log) = capture_logs();
    let cluster = Arc::new(RedisCluster::start());
    let target = Target::on_cluster(&cluster);
    let clock = MockClock::new();
    let store = target
        .builder(&clock)
        .connection_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let app = redis_app(store, expiry(&clock)).await;
    let crowd = Crowd::new(&app).await;
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await.pop().unwrap();
    let slot: u16 = cluster.on_node(0, redis::cmd("CLUSTER").arg("KEYSLOT").arg(&index));
    let first_owner = cluster.owner(slot);
    let before = redirections(&cluster);

    // The slot moves twice (to the next master, then the one after), key by key, in another
    // thread; before each key moves, the traffic is told to make one more request.
    let (events, mut moving) = tokio::sync::mpsc::unbounded_channel();
    let (settled, wait_settled) = std::sync::mpsc::channel::<()>();
    let mover = {
        let cluster = Arc::clone(&cluster);
        std::thread::spawn(move || {
            let mut owners = Vec::new();
            for round in 0..2 {
                let mut n = 0;
                owners.push(cluster.move_slot(slot, |_key| {
                    let _ = events.send(Event::Key { round, n });
                    n += 1;
                    std::thread::sleep(PACE);
                }));
                let _ = events.send(Event::Moved);
                let _ = wait_settled.recv();
            }
            owners
        })
    };

    // The requests run all at once, each from the moment its key is about to move until it is
    // answered (which may be after the slot settled).
    let started = Instant::now();
    let mut running = FuturesUnordered::new();
    let mut outcomes = Vec::new();
    loop {
        tokio::select! {
            event = moving.recv() => match event {
                Some(Event::Key { round, n }) => {
                    let request = schedule(round, n);
                    let crowd = &crowd;
                    running.push(async move { (request, crowd.send(request).await) });
                }
                Some(Event::Moved) => {
                    while let Some(outcome) = running.next().await {
                        outcomes.push(outcome);
                    }
                    let _ = settled.send(());
                }
                None => break,
            },
            Some(outcome) = running.next(), if !running.is_empty() => outcomes.push(outcome),
        }
    }
    let owners = mover.join().unwrap();
    let took = started.elapsed();
    let after = redirections(&cluster);
    let [moved, ask, tryagain] = [0, 1, 2].map(|i| after[i] - before[i]);
    eprintln!(
        "slot {slot}: master {first_owner} -> {owners:?}, {} requests in {took:?}: \
         {moved} MOVED, {ask} ASK, {tryagain} TRYAGAIN answered by the masters",
        outcomes.len()
    );
    let failures: Vec<_> = outcomes
        .iter()
        .filter_map(|(request, outcome)| Some((request, outcome.as_ref().err()?)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}\n{}",
        failures.len(),
        logs(&log)
    );
    let made = |wanted: fn(&Request) -> bool| outcomes.iter().filter(|(r, _)| wanted(r)).count();
    assert!(made(|r| matches!(r, Request::List)) > 2, "{outcomes:?}");
    assert!(
        made(|r| matches!(r, Request::Revoke(_))) > 0,
        "{outcomes:?}"
    );
    assert!(made(|r| matches!(r, Request::Join)) > 0, "{outcomes:?}");
    assert_eq!(made(|r| matches!(r, Request::RevokeOthers)), 1);
    assert_ne!(owners[1], first_owner, "the slot ends on another master");
    assert!(ask + tryagain > 0, "no request met the slot while it moved");

    // The registry lost nothing and kept nothing: only the main session still works, and it
    // is the only one listed.
    assert_eq!(crowd.live().await, 1);
    let listed = crowd.main.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let answer = crowd
        .main
        .json(TestRequest::post().uri("/sessions/revoke-all"))
        .await;
    assert_eq!(answer.json(), serde_json::json!({ "revoked": 1 }));
    assert_eq!(crowd.live().await, 0);
    assert_eq!(redis.index_keys().await, Vec::<String>::new());
}
