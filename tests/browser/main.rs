//! The browser script in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, spawned per test on a free port), against the demo app served in-process on
//! a free port with short real timeouts.
//!
//! Chromium and chromedriver are required, not optional: without them these tests fail and say
//! how to install them (`apt-get install -y chromium chromium-driver`).

// Test support panics on any surprise: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The demo app, shared with the examples (the `testkit` crate).
use testkit::demo;

mod app;
mod browser;
mod page;

mod a11y;
mod activity;
mod csrf;
mod drafts;
mod expiry;
mod forged_messages;
mod i18n;
mod live;
mod tabs;
mod warning;
