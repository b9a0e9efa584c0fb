//! A permanent configuration error is logged at ERROR once per change, not once per request. Alone
//! in its test binary: `tracing`'s per-thread subscriber misses events while other tests run on other
//! threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_authz_metadata::ResourceUri;
use mcp_authz_resource::{ManualClock, TokenVerifier, VerifyError};
use mcp_authz_token::AccessToken;
use support::*;

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_configuration_error_is_logged_at_error_once_not_per_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    *auth.state.issuer.lock().unwrap() = auth.base.replace("127.0.0.1", "localhost");
    let resource = ResourceUri::parse("http://127.0.0.1:1/mcp").unwrap();
    let verifier = auth.jwt_verifier(&resource, &clock);
    let token = AccessToken::parse(&auth.sign(&auth.claims(resource.as_str(), "mcp"))).unwrap();
    for _ in 0..3 {
        assert!(matches!(
            verifier.verify(&token).await,
            Err(VerifyError::Misconfigured(_))
        ));
        // Past the refetch interval: each request fetches the metadata again.
        clock.advance(Duration::from_secs(31));
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains("is not the expected issuer"), "{log}");
    assert!(
        auth.state
            .metadata_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 3
    );
}
