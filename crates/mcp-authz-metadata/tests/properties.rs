//! Property tests (REQUIREMENTS TY-1, TY-2): every parser round-trips (parse -> serialise -> parse is the
//! identity), canonicalisation is idempotent, and arbitrary input never panics.
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    AuthorizationServerMetadata, ClientId, ClientIdMetadataDocument, ClientMetadata,
    ClientRegistrationResponse, CodeChallengeMethod, ExtraMembers, GrantType, Issuer,
    ProtectedResourceMetadata, RedirectUri, RegistrationErrorResponse, ResourceUri, Scope,
    ScopeToken, Url, authorization_server_metadata_urls, protected_resource_metadata_urls,
};
use proptest::prelude::*;

const NQCHAR: &str = "[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,12}";

fn scope_token() -> impl Strategy<Value = ScopeToken> {
    NQCHAR.prop_map(|s| ScopeToken::parse(&s).unwrap())
}

/// A DNS name under `example` (or `example.com`). A first label starting with `xn--` is an IDNA
/// A-label, and `xn--` followed by invalid punycode is no host at all, so those are left out.
fn dns_host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}\\.example(\\.com)?"
        .prop_filter("not an A-label", |h: &String| !h.starts_with("xn--"))
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        dns_host(),
        Just("localhost".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    "(/[A-Za-z0-9._~-]{1,8}){0,3}/?"
}

fn issuer() -> impl Strategy<Value = Issuer> {
    (dns_host(), path(), proptest::option::of(1u16..)).prop_map(|(h, p, port)| {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        Issuer::parse(&format!("https://{h}{port}{p}")).unwrap()
    })
}

fn resource() -> impl Strategy<Value = ResourceUri> {
    (host(), path()).prop_map(|(h, p)| ResourceUri::parse(&format!("https://{h}{p}")).unwrap())
}

fn url() -> impl Strategy<Value = Url> {
    (host(), path()).prop_map(|(h, p)| Url::parse(&format!("https://{h}{p}")).unwrap())
}

fn redirect_uri() -> impl Strategy<Value = RedirectUri> {
    prop_oneof![
        (host(), path()).prop_map(|(h, p)| format!("https://{h}{p}")),
        (1u16.., path()).prop_map(|(port, p)| format!("http://127.0.0.1:{port}{p}")),
        path().prop_map(|p| format!("com.example.app:/{p}")),
    ]
    .prop_map(|s| RedirectUri::parse(&s).unwrap())
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Extension members: names no document models.
fn extras() -> impl Strategy<Value = ExtraMembers> {
    proptest::collection::btree_map("x_[a-z_#-]{1,10}", json_value(), 0..4)
}

fn client_metadata() -> impl Strategy<Value = ClientMetadata> {
    (
        proptest::option::of(proptest::collection::vec(redirect_uri(), 0..3)),
        proptest::option::of(".{0,16}"),
        proptest::option::of(proptest::collection::btree_set(scope_token(), 0..4)),
        proptest::option::of(proptest::collection::vec(
            "[a-z_:]{1,20}".prop_map(|s| GrantType::from(s.as_str())),
            0..3,
        )),
        proptest::option::of(url()),
        extras(),
    )
        .prop_map(
            |(redirect_uris, client_name, scope, grant_types, client_uri, extra)| {
                let mut m = ClientMetadata::default();
                m.redirect_uris = redirect_uris;
                m.client_name = client_name;
                m.scope = scope.map(|s| s.into_iter().collect());
                m.grant_types = grant_types;
                m.client_uri = client_uri;
                m.extra = extra;
                m
            },
        )
}

proptest! {
    // ---- vocabulary ----

    #[test]
    fn scope_token_round_trips(s in NQCHAR) {
        let token = ScopeToken::parse(&s).unwrap();
        prop_assert_eq!(token.as_str(), s.as_str());
        prop_assert_eq!(ScopeToken::parse(token.as_str()).unwrap(), token);
    }

    #[test]
    fn scope_canonicalisation_is_idempotent(tokens in proptest::collection::vec(NQCHAR, 1..8)) {
        let wire = tokens.join(" ");
        let scope = Scope::parse(&wire).unwrap();
        let canonical = scope.to_string();
        let again = Scope::parse(&canonical).unwrap();
        prop_assert_eq!(&again, &scope);
        prop_assert_eq!(again.to_string(), canonical);
        for t in &tokens {
            prop_assert!(scope.contains(t));
        }
        let json = serde_json::to_string(&scope).unwrap();
        prop_assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
    }

    #[test]
    fn issuer_round_trips_verbatim(issuer in issuer()) {
        let again = Issuer::parse(issuer.as_str()).unwrap();
        prop_assert_eq!(again.as_str(), issuer.as_str());
        let json = serde_json::to_string(&issuer).unwrap();
        prop_assert_eq!(serde_json::from_str::<Issuer>(&json).unwrap(), issuer);
    }

    #[test]
    fn resource_canonicalisation_is_idempotent(
        scheme in "[hH][tT][tT][pP][sS]?",
        host in host(),
        upper in any::<bool>(),
        port in proptest::option::of(1u16..),
        path in path(),
    ) {
        let host = if upper { host.to_uppercase() } else { host };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let uri = ResourceUri::parse(&format!("{scheme}://{host}{port}{path}")).unwrap();
        let again = ResourceUri::parse(uri.as_str()).unwrap();
        prop_assert_eq!(again.as_str(), uri.as_str());
        prop_assert_eq!(&again, &uri);
        if path.is_empty() || path == "/" {
            prop_assert!(!uri.as_str().ends_with('/'), "root resource without a trailing slash");
        }
        prop_assert_eq!(uri.url().host_str().unwrap(), host.to_lowercase());
        prop_assert_eq!(uri.as_str().split("://").next().unwrap(), scheme.to_lowercase());
        let json = serde_json::to_string(&uri).unwrap();
        prop_assert_eq!(serde_json::from_str::<ResourceUri>(&json).unwrap(), uri);
    }

    #[test]
    fn client_id_round_trips(s in "[\\x20-\\x7E]{1,64}") {
        let id = ClientId::parse(&s).unwrap();
        prop_assert_eq!(id.as_str(), s.as_str());
        prop_assert_eq!(ClientId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn redirect_uri_round_trips(uri in redirect_uri()) {
        let again = RedirectUri::parse(uri.as_str()).unwrap();
        prop_assert_eq!(&again, &uri);
        prop_assert!(again.matches_registered(&uri));
    }

    #[test]
    fn vocabulary_never_panics(s in any::<String>()) {
        let _ = ScopeToken::parse(&s);
        let _ = Scope::parse(&s);
        let _ = Issuer::parse(&s).map(|i| (i.path_component().len(), authorization_server_metadata_urls(&i)));
        let _ = ResourceUri::parse(&s).map(|r| (r.path().len(), protected_resource_metadata_urls(&r)));
        let _ = ClientId::parse(&s).map(|c| c.metadata_document_url());
        let _ = RedirectUri::parse(&s);
    }

    #[test]
    fn url_shaped_input_never_panics(
        scheme in "(https?|HTTPS|ftp|com\\.app|javascript)",
        rest in "[a-zA-Z0-9:/?#@.%\\[\\]_~-]{0,40}",
    ) {
        let s = format!("{scheme}:{rest}");
        if let Ok(r) = ResourceUri::parse(&s) {
            let again = ResourceUri::parse(r.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), r.as_str());
            let _ = protected_resource_metadata_urls(&r);
        }
        if let Ok(i) = Issuer::parse(&s) {
            prop_assert_eq!(Issuer::parse(i.as_str()).unwrap(), i.clone());
            let _ = authorization_server_metadata_urls(&i);
        }
        if let Ok(u) = RedirectUri::parse(&s) {
            prop_assert_eq!(RedirectUri::parse(u.as_str()).unwrap(), u);
        }
        let _ = ClientId::parse(&s).map(|c| c.metadata_document_url());
    }

    // ---- documents ----

    #[test]
    fn documents_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = AuthorizationServerMetadata::parse(&bytes);
        let _ = ProtectedResourceMetadata::parse(&bytes);
        let _ = ClientMetadata::parse(&bytes);
        let _ = ClientRegistrationResponse::parse(&bytes);
        let _ = RegistrationErrorResponse::parse(&bytes);
        let _ = ClientIdMetadataDocument::parse(&bytes);
    }

    #[test]
    fn documents_never_panic_on_arbitrary_objects(value in proptest::collection::btree_map(
        prop_oneof![
            Just("issuer".to_owned()), Just("resource".to_owned()), Just("client_id".to_owned()),
            Just("authorization_servers".to_owned()), Just("redirect_uris".to_owned()),
            Just("scope".to_owned()), Just("error".to_owned()), Just("token_endpoint".to_owned()),
            Just("client_secret".to_owned()), "[a-z_]{1,8}",
        ],
        json_value(),
        0..6,
    )) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = AuthorizationServerMetadata::parse(&bytes);
        let _ = ProtectedResourceMetadata::parse(&bytes);
        let _ = ClientMetadata::parse(&bytes).map(ClientMetadata::validate);
        let _ = ClientRegistrationResponse::parse(&bytes);
        let _ = RegistrationErrorResponse::parse(&bytes);
        let _ = ClientIdMetadataDocument::parse(&bytes);
    }

    #[test]
    fn as_metadata_round_trips(
        issuer in issuer(),
        authorization_endpoint in proptest::option::of(url()),
        token_endpoint in proptest::option::of(url()),
        scopes in proptest::option::of(proptest::collection::vec(scope_token(), 0..4)),
        methods in proptest::option::of(proptest::collection::vec(
            "(S256|plain|[A-Z0-9]{1,6})".prop_map(|s| s.parse::<CodeChallengeMethod>().unwrap()), 0..3)),
        iss in proptest::option::of(any::<bool>()),
        extra in extras(),
    ) {
        let mut doc = AuthorizationServerMetadata::new(issuer.clone());
        doc.authorization_endpoint = authorization_endpoint;
        doc.token_endpoint = token_endpoint;
        doc.scopes_supported = scopes;
        doc.code_challenge_methods_supported = methods;
        doc.authorization_response_iss_parameter_supported = iss;
        doc.extra = extra;
        let bytes = serde_json::to_vec(&doc).unwrap();
        let parsed = AuthorizationServerMetadata::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &doc);
        prop_assert_eq!(serde_json::to_vec(&parsed).unwrap(), bytes);
        // Validation is total: it either accepts or names a reason; never panics.
        let _ = parsed.validate(&issuer);
    }

    #[test]
    fn prm_round_trips(
        resource in resource(),
        servers in proptest::option::of(proptest::collection::vec(issuer(), 0..3)),
        scopes in proptest::option::of(proptest::collection::vec(scope_token(), 0..4)),
        name in proptest::option::of(".{0,16}"),
        extra in extras(),
    ) {
        let mut doc = ProtectedResourceMetadata::new(resource.clone(), Vec::new());
        doc.authorization_servers = servers;
        doc.scopes_supported = scopes;
        doc.resource_name = name;
        doc.extra = extra;
        let bytes = serde_json::to_vec(&doc).unwrap();
        let parsed = ProtectedResourceMetadata::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &doc);
        prop_assert_eq!(serde_json::to_vec(&parsed).unwrap(), bytes);
        let _ = parsed.validate(&resource);
    }

    #[test]
    fn client_metadata_round_trips(metadata in client_metadata()) {
        let bytes = serde_json::to_vec(&metadata).unwrap();
        let parsed = ClientMetadata::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &metadata);
        prop_assert_eq!(serde_json::to_vec(&parsed).unwrap(), bytes);
        let _ = parsed.validate();
    }

    #[test]
    fn registration_response_round_trips(
        id in "[\\x21-\\x7E]{1,32}",
        issued_at in proptest::option::of(any::<u64>()),
        metadata in client_metadata(),
    ) {
        let response = ClientRegistrationResponse::new(ClientId::parse(&id).unwrap(), metadata);
        let mut response = response;
        response.client_id_issued_at = issued_at;
        let bytes = serde_json::to_vec(&response).unwrap();
        let parsed = ClientRegistrationResponse::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &response);
        prop_assert_eq!(serde_json::to_vec(&parsed).unwrap(), bytes);
    }

    #[test]
    fn cimd_round_trips(path in "(/[a-z0-9]{1,8}){1,3}\\.json", metadata in client_metadata()) {
        let url = format!("https://app.example.com{path}");
        let mut body = serde_json::to_value(&metadata).unwrap();
        body["client_id"] = url.clone().into();
        let bytes = serde_json::to_vec(&body).unwrap();
        let doc = ClientIdMetadataDocument::parse(&bytes).unwrap();
        prop_assert_eq!(&doc.metadata, &metadata);
        let again = ClientIdMetadataDocument::parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
        prop_assert_eq!(&again, &doc);
        let _ = doc.validate(&ClientId::parse(&url).unwrap());
    }

    #[test]
    fn registration_error_round_trips(code in "[a-z_]{1,24}", description in proptest::option::of(".{0,24}")) {
        let body = serde_json::json!({"error": code, "error_description": description});
        let bytes = serde_json::to_vec(&body).unwrap();
        let parsed = RegistrationErrorResponse::parse(&bytes).unwrap();
        prop_assert_eq!(parsed.error.as_str(), code.as_str());
        let again = RegistrationErrorResponse::parse(&serde_json::to_vec(&parsed).unwrap()).unwrap();
        prop_assert_eq!(again, parsed);
    }
}

// ---------------------------------------------------------------------------------------------
// Cache-Control (RFC 9111 §5.2), read for the JWKS cache (SEC-15).
// ---------------------------------------------------------------------------------------------

proptest! {
    /// Arbitrary text never panics.
    #[test]
    fn cache_control_never_panics(text in any::<String>()) {
        let _ = mcp_authz_metadata::cache_control_max_age(&text);
    }

    /// A `max-age` among other directives is found, whatever the case and spacing.
    #[test]
    fn cache_control_max_age_is_found_among_other_directives(
        seconds in 0u64..=2_147_483_648,
        before in proptest::sample::select(vec!["", "public, ", "must-revalidate,", "private=\"a, b\" , "]),
        after in proptest::sample::select(vec!["", ", public", " ,s-maxage=3", ", stale-if-error=60"]),
        name in proptest::sample::select(vec!["max-age", "MAX-AGE", "Max-Age"]),
        quoted in any::<bool>(),
    ) {
        let value = if quoted { format!("\"{seconds}\"") } else { seconds.to_string() };
        let header = format!("{before}{name}={value}{after}");
        prop_assert_eq!(
            mcp_authz_metadata::cache_control_max_age(&header),
            Some(std::time::Duration::from_secs(seconds))
        );
    }

    /// `no-store` or `no-cache` anywhere makes the response stale at once.
    #[test]
    fn cache_control_no_cache_wins(seconds in 0u64..100_000, first in any::<bool>(), store in any::<bool>()) {
        let directive = if store { "no-store" } else { "no-cache" };
        let header = if first {
            format!("{directive}, max-age={seconds}")
        } else {
            format!("max-age={seconds}, {directive}")
        };
        prop_assert_eq!(
            mcp_authz_metadata::cache_control_max_age(&header),
            Some(std::time::Duration::ZERO)
        );
    }
}
