//! `AuthorizationServer::revoke_as_operator`: revocation by token value without client
//! authentication, as `mcp-authz tokens revoke` uses it.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use mcp_authz_server::OperatorRevocation;
use mcp_authz_store::{Clock as _, TokenId};

#[tokio::test]
async fn an_operator_revokes_access_and_refresh_tokens_by_value() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    // Not tokens of this server: nothing changes.
    for other in ["", "garbage", "a.b.c", &format!("{access}x")] {
        assert_eq!(
            server.server.revoke_as_operator(other).await.unwrap(),
            OperatorRevocation::Unknown,
            "{other}"
        );
    }

    // An access token goes onto the deny-list (surrounding whitespace, as piped in, is ignored).
    let revoked = server
        .server
        .revoke_as_operator(&format!("{access}\n"))
        .await
        .unwrap();
    assert_eq!(revoked, OperatorRevocation::AccessToken);
    let (_, claims) = jwt_parts(access);
    let jti = TokenId::parse(claims["jti"].as_str().unwrap()).unwrap();
    assert!(
        server
            .store
            .is_access_token_revoked(&jti, server.clock.now())
            .await
            .unwrap()
    );

    // A refresh token's grant is revoked: refreshing fails.
    assert_eq!(
        server.server.revoke_as_operator(refresh).await.unwrap(),
        OperatorRevocation::Grant
    );
    let (status, _, body) = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}
