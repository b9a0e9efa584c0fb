//! `WWW-Authenticate` challenges: the generic [RFC 9110 §11.6.1] grammar, and the typed Bearer challenge
//! of [RFC 6750 §3] with the `resource_metadata` parameter of [RFC 9728 §5.1].
//!
//! [RFC 9110 §11.6.1]: https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
//! [RFC 6750 §3]: https://www.rfc-editor.org/rfc/rfc6750#section-3
//! [RFC 9728 §5.1]: https://www.rfc-editor.org/rfc/rfc9728#section-5.1

mod bearer;
mod grammar;
mod parse;

pub use bearer::{BearerChallenge, BearerChallengeError, BearerError, ChallengeRenderError};
pub use parse::{AuthParam, Challenge, ChallengeParseError, MAX_CHALLENGE_INPUT_LEN};

/// `true` when `s` is a `b64token` (RFC 6750 §2.1), the same syntax as `token68`.
pub(crate) fn is_b64token(s: &str) -> bool {
    grammar::is_token68(s)
}
