//! Tabs in step: what one tab does, the others know, and no idle tab signs out a user who is
//! active in another.

use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;

use crate::{app::Timeouts, browser::in_browser, page::Page};

const IDLE: Duration = Duration::from_secs(5);

fn timeouts() -> Timeouts {
    Timeouts {
        idle: IDLE,
        absolute: Duration::from_secs(3600),
        warn: Duration::from_secs(3),
    }
}

/// Two windows of one browser on `path`, signed in as alice: returns both handles.
async fn two_tabs(page: &Page, path: &str) -> (WindowHandle, WindowHandle) {
    page.sign_in_to("alice", "/report").await;
    page.open(path).await;
    page.wait_for_script().await;
    let first = page.client.window().await.unwrap();
    let second = page.client.new_window(false).await.unwrap().handle;
    page.client.switch_to_window(second.clone()).await.unwrap();
    page.open(path).await;
    page.wait_for_script().await;
    (first, second)
}

async fn switch(page: &Page, to: &WindowHandle) {
    page.client.switch_to_window(to.clone()).await.unwrap();
}

/// "Stay signed in" in one tab closes the warning in the other.
async fn stay_in_the_first_tab_and_watch_the_second(page: &Page, path: &str) {
    let (first, second) = two_tabs(page, path).await;
    page.wait_for_dialog(Duration::from_secs(10)).await;
    switch(page, &first).await;
    page.wait_for_dialog(Duration::from_secs(10)).await;
    page.click(".session-expiry-primary").await;
    page.wait_for_no_dialog(Duration::from_secs(5)).await;

    switch(page, &second).await;
    page.wait_for_no_dialog(Duration::from_secs(3)).await;
    assert_eq!(page.location().await, path);
}

#[tokio::test]
async fn staying_signed_in_in_one_tab_closes_the_warning_in_the_other() {
    in_browser(timeouts(), |page| async move {
        stay_in_the_first_tab_and_watch_the_second(&page, "/report").await;
    })
    .await;
}

#[tokio::test]
async fn without_broadcast_channel_tabs_keep_in_step_through_local_storage() {
    in_browser(timeouts(), |page| async move {
        stay_in_the_first_tab_and_watch_the_second(&page, "/fallback").await;
        assert_eq!(
            page.js("return typeof BroadcastChannel;").await,
            "undefined",
            "the fallback page really has no BroadcastChannel"
        );
    })
    .await;
}

#[tokio::test]
async fn activity_in_one_tab_keeps_an_idle_tab_signed_in() {
    in_browser(timeouts(), |page| async move {
        let (active, idle) = two_tabs(&page, "/report").await;
        // The idle tab warns: by its own reckoning the session ends within seconds.
        page.wait_for_dialog(Duration::from_secs(10)).await;
        let warned = Instant::now();

        // The active tab talks to the server by itself, without a word to the other tab: the
        // idle tab must ask the server before it signs anyone out, and then stand down.
        while warned.elapsed() < IDLE {
            switch(&page, &active).await;
            let keepalive = page
                .client
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     fetch('/session/keepalive', {
                         method: 'POST',
                         headers: { 'X-Requested-With': 'XMLHttpRequest' },
                     }).then(r => done(r.status), e => done(String(e)));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(keepalive, 204);
            switch(&page, &idle).await;
            assert_eq!(page.location().await, "/report", "the idle tab stays");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert!(
            page.dialog().await.is_none(),
            "the idle tab saw the session is alive"
        );
        let status = page.server_status().await;
        assert_eq!(status.status, 200, "{status:?}");
        assert_eq!(status.body["user"], "alice");
    })
    .await;
}
