//! axum adapter: [`VerifiedClaims`] as an extractor.

use axum::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;

use crate::VerifiedClaims;

/// Extracts the claims [`RequireBearer`](crate::RequireBearer) put into the request. A route that is
/// not behind the layer has none and answers 401 (fail closed).
impl<S: Send + Sync> FromRequestParts<S> for VerifiedClaims {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(StatusCode::UNAUTHORIZED)
    }
}
