//! RFC 8414 authorization server metadata: the document and its validation.

mod document;
mod validated;

pub use document::AuthorizationServerMetadata;
pub use validated::{AuthorizationServerMetadataError, ValidatedAuthorizationServerMetadata};
