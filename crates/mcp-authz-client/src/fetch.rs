//! Guarded HTTP: every request passes the [`UrlPolicy`] before it reaches the [`HttpClient`].

use std::sync::Arc;

use http::header::{ACCEPT, HeaderValue};
use url::Url;

use crate::{FetchError, HttpClient, HttpRequest, HttpResponse, UrlPolicy};

/// The policy plus the HTTP client.
#[derive(Clone)]
pub(crate) struct Fetcher {
    http: Arc<dyn HttpClient>,
    policy: UrlPolicy,
}

impl Fetcher {
    pub(crate) fn new(http: Arc<dyn HttpClient>, policy: UrlPolicy) -> Self {
        Self { http, policy }
    }

    pub(crate) fn policy(&self) -> &UrlPolicy {
        &self.policy
    }

    /// Sends any request after the policy check, with the request's own time limit.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, FetchError> {
        self.policy.check(&request.url).await?;
        Ok(self.http.execute(request).await?)
    }

    /// A `GET` of a JSON document: policy check, the policy's size cap, redirects refused.
    pub(crate) async fn get_document(&self, url: &Url) -> Result<HttpResponse, FetchError> {
        let mut request = HttpRequest::get(url.clone());
        request.max_response_bytes = self.policy.max_document_bytes();
        request
            .headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        self.document_exchange(request).await
    }

    /// A request whose answer is a small JSON document (registration, token): size cap, no redirects.
    pub(crate) async fn document_exchange(
        &self,
        mut request: HttpRequest,
    ) -> Result<HttpResponse, FetchError> {
        request.max_response_bytes = self.policy.max_document_bytes();
        request.timeout = request.timeout.min(self.policy.timeout());
        let url = request.url.to_string();
        let response = self.send(request).await?;
        if response.status.is_redirection() {
            return Err(FetchError::Redirected {
                url,
                status: response.status.as_u16(),
            });
        }
        Ok(response)
    }
}
