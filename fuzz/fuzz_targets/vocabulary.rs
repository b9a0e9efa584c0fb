//! The spec strings every document and request is built from: scopes (RFC 6749 §3.3), resource URIs
//! (RFC 8707), redirect URIs, issuers, client ids, PKCE verifiers and challenges (RFC 7636), `state`.
//! A value we accept must print back to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_metadata::{ClientId, Issuer, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::{CodeChallenge, CodeChallengeMethod, CodeVerifier};
use mcp_authz_token::State;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(scope) = Scope::parse(text) {
        assert_eq!(Scope::parse(&scope.to_string()).expect("scope"), scope);
    }
    if let Ok(resource) = ResourceUri::parse(text) {
        assert_eq!(ResourceUri::parse(resource.as_str()).expect("resource"), resource);
    }
    if let Ok(redirect) = RedirectUri::parse(text) {
        assert_eq!(RedirectUri::parse(redirect.as_str()).expect("redirect"), redirect);
    }
    if let Ok(issuer) = Issuer::parse(text) {
        assert_eq!(Issuer::parse(issuer.as_str()).expect("issuer").as_str(), issuer.as_str());
    }
    if let Ok(client) = ClientId::parse(text) {
        assert_eq!(ClientId::parse(client.as_str()).expect("client id"), client);
    }
    let _ = CodeVerifier::parse(text);
    let _ = CodeChallenge::parse_with_method(text, Some(&CodeChallengeMethod::S256));
    let _ = CodeChallenge::parse_with_method(text, None);
    let _ = State::parse(text);
});
