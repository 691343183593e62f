//! Another tab's word is only a hint: a `BroadcastChannel` message that any script of the origin
//! can post neither closes a warning nor holds back keep-alives until the server agrees, and a
//! flood of them costs the server a bounded number of status checks.

use std::time::{Duration, Instant};

use crate::{app::Timeouts, browser::in_browser, page::Page};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Posts `count` messages on the script's channel from the page's own script (a second channel
/// object of the same name, as a hostile script of the origin would): alternately a `status`
/// with deadlines an hour or more away and a `keepalive` from as far in the future.
async fn forge(page: &Page, count: u32) {
    let posted = page
        .js(&format!(
            "const channel = new BroadcastChannel('session-expiry:/session/status');
             const later = Date.now() + 3600 * 1000;
             for (let i = 0; i < {count}; i++) {{
                 channel.postMessage(i % 2 === 0
                     ? {{ type: 'status', user: 'alice', idleAt: later, absAt: later + 3600 * 1000,
                         from: 'forged', at: later }}
                     : {{ type: 'keepalive', from: 'forged', at: later }});
             }}
             channel.close();
             return {count};"
        ))
        .await;
    assert_eq!(posted, count);
}

/// Waits until the app has answered more than `count` status checks.
async fn wait_for_statuses_beyond(page: &Page, count: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while page.log.statuses().len() <= count {
        assert!(
            Instant::now() < deadline,
            "waited {within:?} for a status check after the message, in vain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_forged_status_does_not_close_the_warning_and_another_tabs_stay_signed_in_does() {
    // Idle 12 s with a 5 s lead: the warning opens about 7 s after the last page load.
    in_browser(
        Timeouts {
            idle: secs(12),
            absolute: secs(3600),
            warn: secs(5),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            let first = page.client.window().await.unwrap();
            let second = page.client.new_window(false).await.unwrap().handle;
            page.client.switch_to_window(second.clone()).await.unwrap();
            page.open("/report").await;
            page.wait_for_script().await;
            page.wait_for_dialog(secs(15)).await;

            let before = page.log.statuses().len();
            forge(&page, 1).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert!(
                page.dialog().await.is_some(),
                "the forged deadlines closed the warning"
            );
            // The message did arrive: the tabs asked the server, which says the end is near.
            wait_for_statuses_beyond(&page, before, secs(1)).await;
            let status = page.server_status().await;
            let idle_left = status.body["idle_remaining_secs"].as_u64().unwrap();
            assert!(idle_left <= 5, "the server says it ends soon: {status:?}");
            page.client.switch_to_window(first.clone()).await.unwrap();
            assert!(
                page.dialog().await.is_some(),
                "the other tab keeps its warning too"
            );

            // "Stay signed in" in the first tab: the second asks the server, and closes.
            page.click(".session-expiry-primary").await;
            page.wait_for_no_dialog(secs(5)).await;
            page.client.switch_to_window(second).await.unwrap();
            page.wait_for_no_dialog(secs(4)).await;
            assert_eq!(page.location().await, "/report");
            assert_eq!(
                page.log.keepalives().len(),
                1,
                "{:?}",
                page.log.keepalives()
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_flood_of_forged_messages_costs_a_few_status_checks_and_mutes_no_keepalive() {
    // Idle 60 s: a 3 s refresh window, and no check of the tab's own for a minute.
    in_browser(
        Timeouts {
            idle: secs(60),
            absolute: secs(3600),
            warn: secs(2),
        },
        |page| async move {
            page.sign_in_to("alice", "/report").await;
            page.wait_for_script().await;
            tokio::time::sleep(secs(1)).await; // the page's first check is back
            let before = page.log.statuses().len();
            forge(&page, 1000).await;
            tokio::time::sleep(secs(3)).await;
            let checks = page.log.statuses().len() - before;
            eprintln!("1,000 forged messages, {checks} status checks");
            assert!(
                (1..=3).contains(&checks),
                "one check, and at most one more a second: {checks}"
            );
            assert!(page.log.keepalives().is_empty());

            // Keep-alives "sent" an hour from now do not hold back this tab's: typing counts.
            page.keep_typing("details", secs(3)).await;
            page.wait_for_keepalives(1, secs(5)).await;
        },
    )
    .await;
}
