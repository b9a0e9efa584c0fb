//! The endpoint paths, derived from the issuer's path.

use mcp_authz_metadata::{Issuer, Url, authorization_server_metadata_paths};

use crate::config::ServerConfig;

/// Where each endpoint is served, under the issuer's path.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// The RFC 8414 well-known paths (and the OpenID Connect one).
    pub(crate) metadata: Vec<String>,
    /// The JWKS.
    pub(crate) jwks: String,
    /// The authorization endpoint.
    pub(crate) authorize: String,
    /// The login form's target.
    pub(crate) login: String,
    /// The consent form's target.
    pub(crate) consent: String,
    /// The consent page's "Not you? Sign out" form's target.
    pub(crate) sign_out: String,
    /// Where login redirects to, to show the next step.
    pub(crate) resume: String,
    /// The start of an upstream identity provider login.
    pub(crate) upstream: String,
    /// The upstream identity provider's redirect URI.
    pub(crate) upstream_callback: String,
    /// The token endpoint.
    pub(crate) token: String,
    /// The registration endpoint.
    pub(crate) register: String,
    /// The revocation endpoint.
    pub(crate) revoke: String,
    /// The introspection endpoint.
    pub(crate) introspect: String,
    /// The signed-in user's connected applications page (OB-3).
    pub(crate) account_applications: String,
    /// Its sign-in form's target.
    pub(crate) account_sign_in: String,
    /// Its revoke forms' target.
    pub(crate) account_revoke: String,
    /// Its sign-out form's target.
    pub(crate) account_sign_out: String,
}

impl Paths {
    /// The paths of a server with `config`.
    pub(crate) fn new(config: &ServerConfig) -> Self {
        let base = config.issuer.path_component();
        Self {
            metadata: authorization_server_metadata_paths(&config.issuer),
            jwks: format!("{base}/jwks.json"),
            authorize: format!("{base}/authorize"),
            login: format!("{base}/authorize/login"),
            consent: format!("{base}/authorize/consent"),
            resume: format!("{base}/authorize/resume"),
            sign_out: format!("{base}/authorize/signout"),
            upstream: format!("{base}/authorize/upstream"),
            upstream_callback: format!("{base}/authorize/upstream/callback"),
            token: format!("{base}/token"),
            register: format!("{base}/register"),
            revoke: format!("{base}/revoke"),
            introspect: format!("{base}/introspect"),
            account_applications: format!("{base}/account/applications"),
            account_sign_in: format!("{base}/account/signin"),
            account_revoke: format!("{base}/account/applications/revoke"),
            account_sign_out: format!("{base}/account/signout"),
        }
    }

    /// The absolute URL of `path` on the issuer's origin.
    pub(crate) fn url(issuer: &Issuer, path: &str) -> Url {
        let mut url = issuer.url().clone();
        url.set_path(path);
        url.set_query(None);
        url
    }

    /// `resume?request=<id>`: where login sends the browser.
    pub(crate) fn resume_of(&self, request_id: &str) -> String {
        format!("{}?request={request_id}", self.resume)
    }

    /// `upstream?request=<id>`: the link to the upstream identity provider.
    pub(crate) fn upstream_of(&self, request_id: &str) -> String {
        format!("{}?request={request_id}", self.upstream)
    }
}
