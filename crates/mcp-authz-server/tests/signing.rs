//! Signing algorithms over real HTTP (AS-9, issue #5): EdDSA (Ed25519, RFC 8037) access tokens, their
//! OKP JWKS entries, and rotation between algorithms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcp_authz_resource::SigningAlgorithm as SigningAlgorithmRs;
use mcp_authz_resource::{JwtVerifier, TokenVerifier as _, VerifyError};
use mcp_authz_server::{OperatorRevocation, SigningAlgorithm};
use mcp_authz_token::{AccessToken, JwtAccessTokenClaims};
use serde_json::Value;

/// A confidential client allowed `client_credentials` and to introspect tokens for RESOURCE.
async fn machine_client(server: &TestServer) -> (String, String) {
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let client_id = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    let mut record = server.store.get_client(&client_id).await.unwrap().unwrap();
    record.allowed_resources = Some(vec![resource()]);
    server.store.update_client(record).await.unwrap();
    (id, secret)
}

async fn client_credentials_token(server: &TestServer, id: &str, secret: &str) -> String {
    let (status, _, body) = server
        .token_basic(
            id,
            secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn jwks(server: &TestServer) -> Value {
    server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn jwk_of<'a>(jwks: &'a Value, kid: &str) -> &'a Value {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no key {kid} in {jwks}"))
}

async fn introspect_active(server: &TestServer, id: &str, secret: &str, token: &str) -> bool {
    let response = server
        .http
        .post(server.url("/introspect"))
        .header("authorization", basic(id, secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["active"].as_bool().unwrap()
}

/// The resource crate's verifier, discovering the JWKS from the server's metadata.
fn verifier(server: &TestServer, algorithms: &[SigningAlgorithmRs]) -> JwtVerifier {
    JwtVerifier::builder(server.issuer(), resource())
        .algorithms(algorithms.iter().copied())
        .build()
        .unwrap()
}

async fn verify(verifier: &JwtVerifier, jwt: &str) -> Result<(), VerifyError> {
    verifier
        .verify(&AccessToken::parse(jwt).unwrap())
        .await
        .map(|_| ())
}

#[tokio::test]
async fn eddsa_access_token_has_its_header_okp_jwk_and_verifies() {
    let server = TestServer::start_configured(|b| {
        default_config(b).signing_algorithm(SigningAlgorithm::EdDsa)
    })
    .await;
    assert_eq!(
        server.server.config().signing_algorithm(),
        SigningAlgorithm::EdDsa
    );
    let (id, secret) = machine_client(&server).await;
    let jwt = client_credentials_token(&server, &id, &secret).await;
    let (header, claims) = jwt_parts(&jwt);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let kid = header["kid"].as_str().unwrap();
    assert_eq!(claims["aud"], RESOURCE);

    // RFC 8037 §2 public key: OKP, Ed25519, a 32-byte x, no private part.
    let jwks = jwks(&server).await;
    let jwk = jwk_of(&jwks, kid);
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap();
    assert_eq!(x.len(), 32);
    assert!(jwk.get("d").is_none(), "{jwk}");

    // Independent check with jsonwebtoken directly.
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[RESOURCE]);
    validation.set_issuer(&[server.base.as_str()]);
    let data = jsonwebtoken::decode::<JwtAccessTokenClaims>(
        &jwt,
        &DecodingKey::from_jwk(set.find(kid).unwrap()).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims.client_id.as_str(), id);

    // The resource crate's verifier accepts it with EdDSA allowed, refuses it when only ES256 is.
    verify(&verifier(&server, &[SigningAlgorithmRs::EdDsa]), &jwt)
        .await
        .unwrap();
    assert!(matches!(
        verify(&verifier(&server, &[SigningAlgorithmRs::Es256]), &jwt).await,
        Err(VerifyError::InvalidToken(_))
    ));

    // Introspection and operator revocation verify it with the stored key's algorithm.
    assert!(introspect_active(&server, &id, &secret, &jwt).await);
    assert_eq!(
        server.server.revoke_as_operator(&jwt).await.unwrap(),
        OperatorRevocation::AccessToken
    );
    assert!(!introspect_active(&server, &id, &secret, &jwt).await);
}

#[tokio::test]
async fn a_header_naming_another_algorithm_than_the_key_is_refused() {
    let server = TestServer::start_configured(|b| {
        default_config(b).signing_algorithm(SigningAlgorithm::EdDsa)
    })
    .await;
    let (id, secret) = machine_client(&server).await;
    let jwt = client_credentials_token(&server, &id, &secret).await;
    let (header, _) = jwt_parts(&jwt);
    let forged_header = serde_json::json!({
        "alg": "ES256", "typ": "at+jwt", "kid": header["kid"],
    });
    let rest = jwt.split_once('.').unwrap().1;
    let forged = format!(
        "{}.{rest}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged_header.to_string())
    );
    assert!(!introspect_active(&server, &id, &secret, &forged).await);
    assert_eq!(
        server.server.revoke_as_operator(&forged).await.unwrap(),
        OperatorRevocation::Unknown
    );
    assert!(introspect_active(&server, &id, &secret, &jwt).await);
}

#[tokio::test]
async fn rotation_from_es256_to_eddsa_keeps_both_tokens_verifiable() {
    let server = TestServer::start().await;
    let (id, secret) = machine_client(&server).await;
    let old = client_credentials_token(&server, &id, &secret).await;
    let (old_header, _) = jwt_parts(&old);
    assert_eq!(old_header["alg"], "ES256");
    let old_kid = old_header["kid"].as_str().unwrap().to_owned();

    let new_kid = server
        .server
        .rotate_signing_key_to(SigningAlgorithm::EdDsa, Duration::ZERO)
        .await
        .unwrap()
        .kid;
    let new = client_credentials_token(&server, &id, &secret).await;
    let (new_header, _) = jwt_parts(&new);
    assert_eq!(new_header["alg"], "EdDSA");
    assert_eq!(new_header["kid"], new_kid.as_str());

    let jwks = jwks(&server).await;
    assert_eq!(jwk_of(&jwks, &old_kid)["kty"], "EC");
    assert_eq!(jwk_of(&jwks, new_kid.as_str())["kty"], "OKP");

    // Both verify: with the default allow-list of the resource crate, and by introspection.
    let all = verifier(
        &server,
        &[SigningAlgorithmRs::Es256, SigningAlgorithmRs::EdDsa],
    );
    verify(&all, &old).await.unwrap();
    verify(&all, &new).await.unwrap();
    let default = JwtVerifier::builder(server.issuer(), resource())
        .build()
        .unwrap();
    verify(&default, &old).await.unwrap();
    verify(&default, &new).await.unwrap();
    assert!(introspect_active(&server, &id, &secret, &old).await);
    assert!(introspect_active(&server, &id, &secret, &new).await);

    // And back: EdDSA -> ES256 keeps the EdDSA token verifiable.
    let third_kid = server
        .server
        .rotate_signing_key_to(SigningAlgorithm::Es256, Duration::ZERO)
        .await
        .unwrap()
        .kid;
    let third = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(jwt_parts(&third).0["alg"], "ES256");
    assert_eq!(jwt_parts(&third).0["kid"], third_kid.as_str());
    assert!(introspect_active(&server, &id, &secret, &new).await);
    assert!(introspect_active(&server, &id, &secret, &third).await);
}

#[tokio::test]
async fn the_configured_algorithm_applies_to_new_keys_only() {
    // An ES256 deployment restarted with EdDSA keeps signing with its active ES256 key until the next
    // rotation, which creates an EdDSA key.
    let first = TestServer::start().await;
    let (id, secret) = machine_client(&first).await;
    let before = client_credentials_token(&first, &id, &secret).await;
    assert_eq!(jwt_parts(&before).0["alg"], "ES256");

    let second = TestServer::start_with(
        |b| default_config(b).signing_algorithm(SigningAlgorithm::EdDsa),
        first.store.clone(),
    )
    .await;
    let still = client_credentials_token(&second, &id, &secret).await;
    assert_eq!(jwt_parts(&still).0["alg"], "ES256");
    let kid = second.server.rotate_signing_key_now().await.unwrap().kid;
    let after = client_credentials_token(&second, &id, &secret).await;
    assert_eq!(jwt_parts(&after).0["alg"], "EdDSA");
    assert_eq!(jwt_parts(&after).0["kid"], kid.as_str());
    let stored = second.store.get_key(&kid).await.unwrap().unwrap();
    assert_eq!(stored.algorithm.as_str(), "EdDSA");
    // Both keys stay published (each server checks its own issuer, so each introspects its token).
    let jwks = jwks(&first).await;
    assert_eq!(
        jwk_of(&jwks, jwt_parts(&before).0["kid"].as_str().unwrap())["kty"],
        "EC"
    );
    assert_eq!(jwk_of(&jwks, kid.as_str())["kty"], "OKP");
    assert!(introspect_active(&first, &id, &secret, &before).await);
    assert!(introspect_active(&second, &id, &secret, &after).await);
}
