//! JSON documents fetched from or posted by untrusted parties: authorization server metadata
//! (RFC 8414), protected resource metadata (RFC 9728), client metadata and registration requests and
//! responses (RFC 7591), Client ID Metadata Documents; parse, then the MCP validation rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_metadata::{
    AuthorizationServerMetadata, ClientId, ClientIdMetadataDocument, ClientMetadata,
    ClientRegistrationResponse, Issuer, ProtectedResourceMetadata, RegistrationErrorResponse,
    ResourceUri,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = AuthorizationServerMetadata::parse(data) {
        let issuer = Issuer::parse("https://as.example.com").expect("issuer");
        let _ = document.validate(&issuer);
    }
    if let Ok(document) = ProtectedResourceMetadata::parse(data) {
        let resource = ResourceUri::parse("https://mcp.example.com/mcp").expect("resource");
        let _ = document.validate(&resource);
    }
    if let Ok(document) = ClientMetadata::parse(data) {
        let _ = document.validate();
    }
    if let Ok(document) = ClientIdMetadataDocument::parse(data) {
        let url = ClientId::parse("https://app.example.com/client.json").expect("client id");
        let _ = document.validate(&url);
    }
    let _ = ClientRegistrationResponse::parse(data);
    let _ = RegistrationErrorResponse::parse(data);
});
