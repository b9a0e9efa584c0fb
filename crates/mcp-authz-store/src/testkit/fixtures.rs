//! Records and helpers the kit tests share.

use std::time::Duration;

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, ResourceUri, Scope, TokenEndpointAuthMethod,
};
use mcp_authz_pkce::CodeChallenge;

use crate::{
    AuthorizationCode, ClientKind, ClientRecord, CodeConsumption, CodeExchange, FamilyId, Grant,
    KeyAlgorithm, KeyId, KeyState, NewRefreshToken, NumericDate, PrivateKeyMaterial, SecretHash,
    SecretHashString, SigningKey, Store, Subject, User, Username,
};

/// The kit's starting time: 2023-11-14T22:13:20Z.
pub(crate) const T0: NumericDate = NumericDate::from_secs(1_700_000_000);

/// Authorization codes live 60 s (REQUIREMENTS AS-7).
pub(crate) const CODE_TTL: Duration = Duration::from_secs(60);

/// Refresh tokens live 1 day in the kit.
pub(crate) const REFRESH_TTL: Duration = Duration::from_secs(86_400);

/// Grants live 30 days in the kit.
pub(crate) const GRANT_TTL: Duration = Duration::from_secs(30 * 86_400);

/// The RFC 7636 Appendix B challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn client_id(id: &str) -> ClientId {
    ClientId::parse(id).expect("valid client id")
}

pub(crate) fn subject(id: &str) -> Subject {
    Subject::parse(id).expect("valid subject")
}

pub(crate) fn family(id: &str) -> FamilyId {
    FamilyId::parse(id).expect("valid family id")
}

pub(crate) fn scope(s: &str) -> Scope {
    Scope::parse(s).expect("valid scope")
}

pub(crate) fn hash(seed: &str) -> SecretHash {
    SecretHash::of(seed)
}

pub(crate) fn resource() -> ResourceUri {
    ResourceUri::parse("https://mcp.example.com/mcp").expect("valid resource")
}

pub(crate) fn phc(tag: &str) -> SecretHashString {
    SecretHashString::parse(&format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${tag}"))
        .expect("valid PHC string")
}

/// An unconsumed code `seed` issued at `now` for `client` / `user`, creating `family`.
pub(crate) fn code(
    seed: &str,
    client: &str,
    user: &str,
    family_id: &str,
    now: NumericDate,
) -> AuthorizationCode {
    AuthorizationCode {
        hash: hash(seed),
        client_id: client_id(client),
        redirect_uri: RedirectUri::parse("http://127.0.0.1:33418/callback")
            .expect("valid redirect"),
        code_challenge: CHALLENGE.parse::<CodeChallenge>().expect("valid challenge"),
        resources: vec![resource()],
        scope: scope("files:read tools:call"),
        subject: subject(user),
        family_id: family(family_id),
        issued_at: now,
        expires_at: now.saturating_add(CODE_TTL),
        consumed_at: None,
    }
}

/// The exchange of a code at `now`, with a first refresh token `refresh_seed` if given.
pub(crate) fn exchange(refresh_seed: Option<&str>, now: NumericDate) -> CodeExchange {
    CodeExchange {
        grant_expires_at: now.saturating_add(GRANT_TTL),
        refresh_token: refresh_seed.map(|seed| new_refresh(seed, now)),
    }
}

/// A new refresh token `seed` issued at `now`.
pub(crate) fn new_refresh(seed: &str, now: NumericDate) -> NewRefreshToken {
    NewRefreshToken {
        hash: hash(seed),
        expires_at: now.saturating_add(REFRESH_TTL),
    }
}

/// Issues a code and exchanges it at `now` with first refresh token `refresh_seed`: a live grant.
pub(crate) async fn grant<S: Store + ?Sized>(
    store: &S,
    family_id: &str,
    client: &str,
    user: &str,
    refresh_seed: &str,
    now: NumericDate,
) -> Grant {
    let code_seed = format!("code-for-{family_id}");
    store
        .insert_code(code(&code_seed, client, user, family_id, now))
        .await
        .expect("insert code");
    match store
        .consume_code(&hash(&code_seed), exchange(Some(refresh_seed), now), now)
        .await
    {
        Ok(CodeConsumption::Consumed { grant, .. }) => grant,
        other => panic!("fresh code must be consumable, got {other:?}"),
    }
}

/// A dynamically registered public native client.
pub(crate) fn client(id: &str, now: NumericDate) -> ClientRecord {
    ClientRecord {
        client_id: client_id(id),
        kind: ClientKind::Dynamic,
        secret_hash: None,
        secret_expires_at: None,
        redirect_uris: vec![
            RedirectUri::parse("http://127.0.0.1/callback").expect("valid redirect"),
            RedirectUri::parse("com.example.app:/oauth").expect("valid redirect"),
        ],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        application_type: ApplicationType::Native,
        client_name: Some("Example MCP client".to_owned()),
        allowed_resources: Some(vec![resource()]),
        allowed_scope: Some(scope("files:read tools:call")),
        metadata_json: format!(
            r#"{{"client_id":"{id}","redirect_uris":["http://127.0.0.1/callback"],"x-extra":[1,2]}}"#
        ),
        created_at: now,
    }
}

/// A signing key `kid` in `state`.
pub(crate) fn key(kid: &str, state: KeyState, created_at: NumericDate) -> SigningKey {
    SigningKey {
        kid: KeyId::parse(kid).expect("valid kid"),
        algorithm: KeyAlgorithm::parse("ES256").expect("valid alg"),
        private_key: PrivateKeyMaterial::new(format!("private-{kid}").into_bytes()),
        public_jwk_json: format!(r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"..","y":".."}}"#),
        created_at,
        state,
        activates_at: None,
    }
}

/// A local user.
pub(crate) fn user(id: &str, username: &str, now: NumericDate) -> User {
    User {
        id: subject(id),
        username: Username::parse(username).expect("valid username"),
        password_hash: phc("aGFzaA"),
        created_at: now,
        disabled: false,
    }
}
