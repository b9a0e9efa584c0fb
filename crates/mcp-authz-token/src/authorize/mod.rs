//! The authorization endpoint: request ([RFC 6749 §4.1.1], [RFC 7636 §4.3], [RFC 8707 §2]), success
//! response ([RFC 6749 §4.1.2], [RFC 9207 §2]) and error response ([RFC 6749 §4.1.2.1]).
//!
//! [RFC 6749 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
//! [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
//! [RFC 6749 §4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
//! [RFC 7636 §4.3]: https://www.rfc-editor.org/rfc/rfc7636#section-4.3
//! [RFC 8707 §2]: https://www.rfc-editor.org/rfc/rfc8707#section-2
//! [RFC 9207 §2]: https://www.rfc-editor.org/rfc/rfc9207#section-2

mod request;
mod response;
mod state;

pub use request::{AuthorizationRequest, AuthorizationRequestError, AuthorizationRequestRejection};
pub use response::{
    AuthorizationCallback, AuthorizationErrorResponse, AuthorizationResponse, CallbackError,
    CallbackVerifyError,
};
pub use state::State;
