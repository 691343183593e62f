//! Who may read the redis example's `GET /metrics`: peers on loopback by default, more only when
//! the deployment says so (the example reads `METRICS_ALLOW`; here the setting is a value).

use std::net::{IpAddr, SocketAddr};

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App,
};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::metrics_page::{self, MetricsAccess};

/// What `GET /metrics` answers a peer at `peer` (none: a peer actix cannot name), with `access`.
async fn answer(access: &MetricsAccess, peer: Option<&str>) -> (StatusCode, Option<String>) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(recorder.handle()))
            .configure(metrics_page::routes(access.clone())),
    )
    .await;
    let mut req = TestRequest::get().uri("/metrics");
    if let Some(peer) = peer {
        let ip: IpAddr = peer.parse().unwrap();
        req = req.peer_addr(SocketAddr::new(ip, 40_000));
    }
    let res = test::call_service(&app, req.to_request()).await;
    let cache = res
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), cache)
}

async fn status(access: &MetricsAccess, peer: &str) -> StatusCode {
    answer(access, Some(peer)).await.0
}

const LOOPBACK: [&str; 4] = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"];
const ELSEWHERE: [&str; 4] = ["203.0.113.9", "10.1.2.3", "2001:db8::1", "::ffff:10.1.2.3"];

#[actix_web::test]
async fn by_default_only_loopback_peers_read_the_metrics_and_no_cache_keeps_them() {
    let access = MetricsAccess::parse("").unwrap();
    assert_eq!(access, MetricsAccess::default());
    for peer in LOOPBACK {
        let (status, cache) = answer(&access, Some(peer)).await;
        assert_eq!(status, StatusCode::OK, "{peer}");
        assert_eq!(cache.as_deref(), Some("no-store"), "{peer}");
    }
    for peer in ELSEWHERE {
        let (status, cache) = answer(&access, Some(peer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{peer}");
        assert_eq!(cache.as_deref(), Some("no-store"), "{peer}");
    }
    let (unknown, _) = answer(&access, None).await;
    assert_eq!(unknown, StatusCode::FORBIDDEN, "a peer without an address");
}

#[actix_web::test]
async fn any_lets_every_peer_read_the_metrics() {
    let access = MetricsAccess::parse(" any ").unwrap();
    for peer in LOOPBACK.into_iter().chain(ELSEWHERE) {
        assert_eq!(status(&access, peer).await, StatusCode::OK, "{peer}");
    }
    assert_eq!(answer(&access, None).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn a_list_allows_its_addresses_and_networks_besides_loopback() {
    let access = MetricsAccess::parse("10.0.0.0/8, 192.168.1.5,fd00::/8,").unwrap();
    for peer in
        LOOPBACK
            .into_iter()
            .chain(["10.1.2.3", "::ffff:10.1.2.3", "192.168.1.5", "fd12::1"])
    {
        assert_eq!(status(&access, peer).await, StatusCode::OK, "{peer}");
    }
    for peer in ["11.0.0.1", "192.168.1.6", "fe80::1", "2001:db8::1"] {
        assert_eq!(status(&access, peer).await, StatusCode::FORBIDDEN, "{peer}");
    }
    let everyone = MetricsAccess::parse("0.0.0.0/0").unwrap();
    assert_eq!(status(&everyone, "203.0.113.9").await, StatusCode::OK);
    assert_eq!(
        status(&everyone, "2001:db8::1").await,
        StatusCode::FORBIDDEN,
        "an IPv4 network holds no IPv6 peer"
    );
}

#[test]
fn a_setting_that_names_no_peer_is_refused() {
    assert_eq!(
        MetricsAccess::parse("loopback").unwrap(),
        MetricsAccess::Loopback
    );
    for bad in [
        "10.0.0.0/33",
        "::/129",
        "10.0.0.1/x",
        "10.0.0.1/",
        "localhost",
        "all",
        "10.0.0.0/8;10.1.0.0/16",
    ] {
        let error = MetricsAccess::parse(bad).unwrap_err();
        assert!(error.contains("neither an IP address"), "{bad}: {error}");
    }
}
