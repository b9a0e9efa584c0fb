//! The path dispatcher and one public method per endpoint, each handing the request to its endpoint
//! module.

use bytes::Bytes;
use http::{Method, Request, Response};

use super::AuthorizationServer;
use crate::error::{EndpointError, NotFound, wire};
use crate::pages;

impl AuthorizationServer {
    /// Dispatches a request to its endpoint by path; 404 for unknown paths, 405 for wrong methods.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let paths = &self.inner.paths;
        let path = request.uri().path();
        let method = request.method();
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        if paths.metadata.iter().any(|p| p == path) {
            return if get {
                self.metadata_endpoint()
            } else {
                not_allowed()
            };
        }
        let p = path.to_owned();
        let p = p.as_str();
        if p == paths.jwks {
            get_only(get, self.jwks(request)).await
        } else if p == paths.authorize {
            get_only(get, self.authorize(request)).await
        } else if p == paths.resume {
            get_only(get, self.resume(request)).await
        } else if p == paths.upstream {
            get_only(get, self.upstream_login(request)).await
        } else if p == paths.upstream_callback {
            get_only(get, self.upstream_callback(request)).await
        } else if p == paths.login {
            post_only(post, self.login(request)).await
        } else if p == paths.consent {
            post_only(post, self.consent(request)).await
        } else if p == paths.sign_out {
            post_only(post, self.sign_out(request)).await
        } else if p == paths.token {
            post_only(post, self.token(request)).await
        } else if p == paths.register {
            post_only(post, self.register(request)).await
        } else if p == paths.revoke {
            post_only(post, self.revoke(request)).await
        } else if p == paths.introspect {
            post_only(post, self.introspect(request)).await
        } else if p == paths.account_applications {
            get_only(get, self.account_applications(request)).await
        } else if p == paths.account_sign_in {
            post_only(post, self.account_sign_in(request)).await
        } else if p == paths.account_revoke {
            post_only(post, self.account_revoke(request)).await
        } else if p == paths.account_sign_out {
            post_only(post, self.account_sign_out(request)).await
        } else {
            wire::response(NotFound::Path.into())
        }
    }

    /// The RFC 8414 metadata document (served at every well-known path, AS-1).
    pub fn metadata_endpoint(&self) -> Response<Bytes> {
        self.inner.endpoints.metadata.handle()
    }

    /// The JWKS (`jwks_uri`): active, published and not-yet-expired retired keys, with
    /// `Cache-Control: public, max-age=` [`JWKS_MAX_AGE`](crate::JWKS_MAX_AGE).
    pub async fn jwks(&self, _request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.jwks.handle().await
    }

    /// `GET /authorize`: validates the request; bad client or redirect URI -> error page, other
    /// errors -> redirect with `error`, `state` and `iss`; else login, consent, or the code.
    pub async fn authorize(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.authorize.handle(request).await)
    }

    /// `POST /authorize/login`: checks the credentials, then 303 to the next step.
    pub async fn login(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.login.login(request).await)
    }

    /// `GET /authorize/resume?request=…`: where login redirects (303) to.
    pub async fn resume(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.login.resume(request).await)
    }

    /// `POST /authorize/signout`: ends the browser's session (CSRF-checked form of the consent page),
    /// then 303 to the login page of the same authorization request.
    pub async fn sign_out(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.login.sign_out(request).await)
    }

    /// `POST /authorize/consent`: approve (remembered) or deny, then 303 to the client.
    pub async fn consent(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.consent.handle(request).await)
    }

    /// `GET /authorize/upstream?request=…`: sends the browser to the upstream identity provider with
    /// a fresh `state` bound to this session and pending request.
    pub async fn upstream_login(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.upstream.login(request).await)
    }

    /// `GET /authorize/upstream/callback`: completes an upstream login, then 303 to the next step.
    pub async fn upstream_callback(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.dressed(self.inner.endpoints.upstream.callback(request).await)
    }

    /// `POST /token`.
    pub async fn token(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.token.handle(request).await
    }

    /// `POST /register`: 201 with the registration response, or 400 with an RFC 7591 error.
    pub async fn register(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.register.handle(request).await
    }

    /// `POST /revoke`: 200 for every well-formed request from an authenticated client, whether or not
    /// the token was known (RFC 7009 §2.2).
    pub async fn revoke(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.revoke.handle(request).await
    }

    /// `POST /introspect`: client-authenticated (confidential clients only).
    pub async fn introspect(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.introspect.handle(request).await
    }
}

impl AuthorizationServer {
    /// A page endpoint's answer with its error page, if any, in the configured templates and
    /// service name.
    fn dressed(&self, response: Response<Bytes>) -> Response<Bytes> {
        pages::dress(&self.inner.config, response)
    }

    /// `GET /account/applications`: the signed-in user's connected applications, each with a
    /// revoke button, or a sign-in form (REQUIREMENTS OB-3).
    pub async fn account_applications(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.account.page(request).await
    }

    /// `POST /account/signin`: the sign-in form of the account page (same lockout as the login
    /// page), then 303 to the page.
    pub async fn account_sign_in(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.account.sign_in(request).await
    }

    /// `POST /account/applications/revoke` (`csrf`, `client_id`): revokes the signed-in user's
    /// grants to that client and forgets the consent, then 303 to the page.
    pub async fn account_revoke(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.account.revoke(request).await
    }

    /// `POST /account/signout` (`csrf`): ends the session, then 303 to the page.
    pub async fn account_sign_out(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.inner.endpoints.account.sign_out(request).await
    }
}

async fn get_only(get: bool, handler: impl Future<Output = Response<Bytes>>) -> Response<Bytes> {
    if get { handler.await } else { not_allowed() }
}

async fn post_only(post: bool, handler: impl Future<Output = Response<Bytes>>) -> Response<Bytes> {
    if post { handler.await } else { not_allowed() }
}

fn not_allowed() -> Response<Bytes> {
    wire::response(EndpointError::MethodNotAllowed)
}
