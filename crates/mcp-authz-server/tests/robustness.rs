//! Storage outages and malformed input: 503 with Retry-After, RFC error codes, never 500.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::*;
use proptest::prelude::*;

/// A MemoryStore that can be switched off: every operation then fails with `Unavailable`.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable("switched off by the test"))
        } else {
            Ok(())
        }
    }
}

macro_rules! forward {
    ($trait:ident { $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* }) => {
        #[async_trait]
        impl $trait for Flaky {
            $(async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                self.check()?;
                self.inner.$name($($arg),*).await
            })*
        }
    };
}

forward!(ClientStore {
    fn insert_client(&self, client: ClientRecord) -> ();
    fn upsert_client(&self, client: ClientRecord) -> ();
    fn update_client(&self, client: ClientRecord) -> ();
    fn get_client(&self, client_id: &ClientId) -> Option<ClientRecord>;
    fn delete_client(&self, client_id: &ClientId) -> bool;
    fn list_clients(&self) -> Vec<ClientRecord>;
});
forward!(CodeStore {
    fn insert_code(&self, code: AuthorizationCode) -> ();
    fn find_code(&self, hash: &SecretHash) -> Option<AuthorizationCode>;
    fn consume_code(&self, hash: &SecretHash, exchange: CodeExchange, now: NumericDate) -> CodeConsumption;
});
forward!(GrantStore {
    fn rotate_refresh_token(&self, presented: &SecretHash, next: NewRefreshToken, scope: Scope, now: NumericDate) -> Rotation;
    fn find_refresh_token(&self, hash: &SecretHash, now: NumericDate) -> Option<RefreshLookup>;
    fn get_grant(&self, family_id: &FamilyId) -> Option<Grant>;
    fn subject_grants(&self, subject: &Subject) -> Vec<Grant>;
    fn list_grants(&self, subject: Option<&Subject>, client_id: Option<&ClientId>) -> Vec<Grant>;
    fn family_last_used(&self, family_id: &FamilyId) -> Option<NumericDate>;
    fn revoke_grant(&self, family_id: &FamilyId, reason: RevocationReason, now: NumericDate) -> bool;
    fn revoke_client_grants(&self, client_id: &ClientId, now: NumericDate) -> RevocationCounts;
    fn revoke_subject_grants(&self, subject: &Subject, now: NumericDate) -> RevocationCounts;
});
forward!(RevokedTokenStore {
    fn revoke_access_token(&self, jti: &TokenId, expires_at: NumericDate) -> ();
    fn is_access_token_revoked(&self, jti: &TokenId, now: NumericDate) -> bool;
});
forward!(ConsentStore {
    fn put_consent(&self, consent: Consent) -> ();
    fn get_consent(&self, subject: &Subject, client_id: &ClientId) -> Option<Consent>;
    fn subject_consents(&self, subject: &Subject) -> Vec<Consent>;
    fn list_consents(&self, subject: Option<&Subject>, client_id: Option<&ClientId>) -> Vec<Consent>;
    fn revoke_consent(&self, subject: &Subject, client_id: &ClientId) -> bool;
});
forward!(KeyStore {
    fn insert_key(&self, key: SigningKey) -> ();
    fn get_key(&self, kid: &KeyId) -> Option<SigningKey>;
    fn active_key(&self) -> Option<SigningKey>;
    fn published_keys(&self, now: NumericDate) -> Vec<SigningKey>;
    fn list_keys(&self) -> Vec<SigningKey>;
    fn activate_key(&self, kid: &KeyId, retire_previous_until: NumericDate) -> Option<KeyId>;
});
forward!(UserStore {
    fn insert_user(&self, user: User) -> ();
    fn get_user(&self, id: &Subject) -> Option<User>;
    fn find_user_by_username(&self, username: &Username) -> Option<User>;
    fn set_user_disabled(&self, id: &Subject, disabled: bool) -> ();
    fn set_password_hash(&self, id: &Subject, password_hash: SecretHashString) -> ();
    fn list_users(&self) -> Vec<User>;
    fn delete_user(&self, id: &Subject) -> bool;
});
forward!(PurgeStore {
    fn purge_expired(&self, now: NumericDate) -> PurgeCounts;
});
forward!(AuditStore {
    fn append_audit_event(&self, event: AuditEvent) -> ();
    fn audit_events(&self, query: &AuditQuery) -> Vec<AuditEvent>;
    fn purge_audit_events(&self, before: NumericDate) -> u64;
});

#[tokio::test]
async fn storage_outage_is_503_with_retry_after_everywhere() {
    let flaky = Arc::new(Flaky::default());
    let server = TestServer::start_with(default_config, flaky.clone()).await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let authorize = Authorize::new(&client);
    flaky.down.store(true, Ordering::SeqCst);

    let mut responses = vec![
        server.http.get(authorize.url(&server)).send().await.unwrap(),
        server.http.get(server.url("/jwks.json")).send().await.unwrap(),
        server.register(serde_json::json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})).await,
    ];
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "abc"),
            ("client_id", client.as_str()),
        ],
    ] {
        responses.push(
            server
                .http
                .post(server.url("/token"))
                .form(&form)
                .send()
                .await
                .unwrap(),
        );
    }
    for path in ["/introspect", "/revoke"] {
        responses.push(
            server
                .http
                .post(server.url(path))
                .header("authorization", basic(&id, &secret))
                .form(&[("token", "abc")])
                .send()
                .await
                .unwrap(),
        );
    }
    for response in responses {
        let url = response.url().clone();
        assert_eq!(response.status(), 503, "{url}");
        assert_eq!(response.headers()["retry-after"], "5", "{url}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    // Metadata does not need the store.
    let response = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Back up: everything works again.
    flaky.down.store(false, Ordering::SeqCst);
    let (status, _, _) = server
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn server_for_fuzzing(rt: &tokio::runtime::Runtime) -> mcp_authz_server::AuthorizationServer {
    rt.block_on(async {
        let config = default_config(
            mcp_authz_server::ServerConfig::builder_from_str("http://127.0.0.1:1")
                .unwrap()
                .allow_http_loopback(),
        )
        .token_rate_limit(mcp_authz_server::RateLimit::unlimited())
        .authorize_rate_limit(mcp_authz_server::RateLimit::unlimited())
        .register_rate_limit(mcp_authz_server::RateLimit::unlimited())
        .build()
        .unwrap();
        mcp_authz_server::AuthorizationServer::new(config, Arc::new(MemoryStore::new())).unwrap()
    })
}

fn request(
    method: &str,
    path: &str,
    query: &str,
    body: Vec<u8>,
    auth: Option<String>,
) -> Option<http::Request<Bytes>> {
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut builder = http::Request::builder().method(method).uri(uri);
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    builder.body(Bytes::from(body)).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bodies_never_cause_a_server_error(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        form in "(grant_type=(authorization_code|refresh_token|client_credentials|x)&?)?((code|client_id|client_secret|refresh_token|code_verifier|redirect_uri|resource|scope|token)=[a-zA-Z0-9%:/._~+ -]{0,40}&?){0,6}",
        auth in proptest::option::of("(Basic|Bearer|basic) [A-Za-z0-9+/=:%]{0,40}"),
    ) {
        let rt = runtime();
        let server = server_for_fuzzing(&rt);
        for path in ["/token", "/register", "/introspect", "/revoke", "/authorize/login", "/authorize/consent"] {
            for payload in [body.clone(), form.clone().into_bytes()] {
                if let Some(req) = request("POST", path, "", payload, auth.clone()) {
                    let response = rt.block_on(server.handle(req));
                    prop_assert!(response.status().as_u16() < 500, "{} {}", path, response.status());
                }
            }
        }
    }

    #[test]
    fn arbitrary_authorize_queries_never_cause_a_server_error_or_open_redirect(
        query in "((response_type|client_id|redirect_uri|scope|state|code_challenge|code_challenge_method|resource)=[a-zA-Z0-9%:/._~+ -]{0,50}&?){0,8}",
    ) {
        let rt = runtime();
        let server = server_for_fuzzing(&rt);
        for path in ["/authorize", "/authorize/resume"] {
            if let Some(req) = request("GET", path, &query, Vec::new(), None) {
                let response = rt.block_on(server.handle(req));
                prop_assert!(response.status().as_u16() < 500);
                // No client is registered: nothing may ever redirect.
                prop_assert!(response.headers().get("location").is_none());
            }
        }
    }
}
