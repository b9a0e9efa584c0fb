//! What the real-browser tests need besides `common::Serve`: a minimal W3C WebDriver client,
//! chromedriver with headless Chromium, and a second origin of the test's own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod chromedriver;
mod site;
mod webdriver;

pub(crate) use chromedriver::Chromedriver;
pub(crate) use site::Site;
pub(crate) use webdriver::Session;
