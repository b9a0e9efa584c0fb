//! The checks of `inspect`, in the order an MCP client meets them: the challenge, the protected
//! resource metadata, the authorization server metadata. Documents are parsed and judged by the
//! metadata crate; this module only fetches them and names the requirement each finding belongs to.

use http::header::{ACCEPT, HeaderValue};
use mcp_authz_client::{HttpClient, HttpRequest, UrlPolicy};
use mcp_authz_metadata::{
    AuthorizationServerMetadata, AuthorizationServerMetadataError, BearerMethod,
    CodeChallengeMethod, GrantType, Issuer, ProtectedResourceMetadata,
    ProtectedResourceMetadataError, ResourceUri, ResponseType, ScopeToken,
    authorization_server_metadata_urls, is_loopback_host, protected_resource_metadata_url,
};
use url::Url;

use super::report::{Check, Status};
use crate::commands::client::Probe;

/// A check's identity: requirement ID, stable key, title.
#[derive(Debug, Clone, Copy)]
struct Spec {
    id: &'static str,
    key: &'static str,
    title: &'static str,
}

const fn spec(id: &'static str, key: &'static str, title: &'static str) -> Spec {
    Spec { id, key, title }
}

const CHALLENGE_STATUS: Spec = spec(
    "RS-2",
    "challenge-status",
    "a request without a token gets 401",
);
const CHALLENGE_BEARER: Spec = spec(
    "RS-2",
    "challenge-bearer",
    "the 401 carries a WWW-Authenticate Bearer challenge",
);
const CHALLENGE_METADATA: Spec = spec(
    "RS-2",
    "challenge-resource-metadata",
    "the challenge has resource_metadata",
);
const CHALLENGE_NO_ERROR: Spec = spec(
    "RS-2",
    "challenge-no-error",
    "no error attribute when no token was sent",
);
const CHALLENGE_SCOPE: Spec = spec(
    "RS-2",
    "challenge-scope",
    "the challenge names the scope needed (SHOULD)",
);
const CHALLENGE_OFFLINE: Spec = spec(
    "RS-9",
    "challenge-no-offline-access",
    "no offline_access in the challenge's scope",
);
const PRM_WELL_KNOWN: Spec = spec(
    "RS-1",
    "prm-well-known",
    "protected resource metadata at the well-known path",
);
const PRM_CHALLENGE_URL: Spec = spec(
    "CL-1",
    "prm-challenge-url",
    "the resource_metadata URL serves the metadata",
);
const PRM_RESOURCE: Spec = spec(
    "RS-1",
    "prm-resource",
    "resource equals the canonical server URI",
);
const PRM_SERVERS: Spec = spec(
    "RS-1",
    "prm-authorization-servers",
    "authorization_servers names a server",
);
const PRM_OFFLINE: Spec = spec(
    "RS-9",
    "prm-no-offline-access",
    "no offline_access in scopes_supported",
);
const PRM_BEARER: Spec = spec(
    "RS-7",
    "prm-bearer-methods",
    "bearer tokens only in the Authorization header",
);
const PRM_ACCEPTED: Spec = spec(
    "CL-2",
    "prm-accepted",
    "an MCP client accepts the resource metadata",
);
const AS_FOUND: Spec = spec("AS-1", "as-metadata", "authorization server metadata found");
const AS_RFC8414: Spec = spec(
    "AS-1",
    "as-metadata-rfc8414",
    "metadata at the RFC 8414 well-known path",
);
const AS_OIDC: Spec = spec(
    "AS-1",
    "as-metadata-oidc",
    "metadata at the OpenID Connect well-known path",
);
const AS_ISSUER: Spec = spec(
    "AS-1",
    "as-issuer",
    "issuer identical to the authorization server's",
);
const AS_S256: Spec = spec(
    "AS-1",
    "as-s256",
    "code_challenge_methods_supported lists S256",
);
const AS_NO_PLAIN: Spec = spec("AS-3", "as-no-plain", "plain PKCE not offered");
const AS_CODE: Spec = spec(
    "AS-2",
    "as-code-flow",
    "authorization code flow; no implicit or password grant",
);
const AS_ISS: Spec = spec(
    "AS-6",
    "as-iss-parameter",
    "RFC 9207 iss in authorization responses",
);
const AS_REGISTRATION: Spec = spec(
    "CL-5",
    "as-registration",
    "clients can register (metadata documents or dynamic)",
);
const AS_REVOCATION: Spec = spec("AS-15", "as-revocation", "revocation endpoint (RFC 7009)");
const AS_JWKS: Spec = spec("AS-9", "as-jwks", "jwks_uri published");
const AS_ACCEPTED: Spec = spec(
    "CL-4",
    "as-accepted",
    "an MCP client accepts the authorization server metadata",
);
const ENDPOINTS: Spec = spec(
    "AS-16",
    "endpoints-https",
    "every endpoint is https (http only on loopback)",
);

/// The checks that depend on the authorization server metadata.
const AS_CHECKS: [Spec; 11] = [
    AS_RFC8414,
    AS_OIDC,
    AS_ISSUER,
    AS_S256,
    AS_NO_PLAIN,
    AS_CODE,
    AS_ISS,
    AS_REGISTRATION,
    AS_REVOCATION,
    AS_JWKS,
    AS_ACCEPTED,
];

/// What fetching a document gave.
enum Fetched {
    /// `200` and its body.
    Document(Vec<u8>),
    /// Another status.
    Status(u16),
    /// The request failed or was refused by the URL policy.
    Error(String),
}

impl Fetched {
    fn describe(&self, url: &Url) -> String {
        match self {
            Self::Document(_) => format!("{url}: 200"),
            Self::Status(status) => format!("{url}: HTTP {status}"),
            Self::Error(error) => format!("{url}: {error}"),
        }
    }
}

/// Runs the checks for one MCP server.
pub(super) struct Inspector<'a> {
    http: &'a dyn HttpClient,
    policy: &'a UrlPolicy,
    resource: &'a ResourceUri,
    checks: Vec<Check>,
    /// Endpoints found neither https nor loopback http, with what is wrong.
    insecure: Vec<String>,
}

fn is_secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => url.host().is_some_and(|h| is_loopback_host(&h)),
        _ => false,
    }
}

fn has_offline_access<'t>(mut tokens: impl Iterator<Item = &'t ScopeToken>) -> bool {
    tokens.any(ScopeToken::is_offline_access)
}

impl<'a> Inspector<'a> {
    /// An inspector of `resource`.
    pub(super) fn new(
        http: &'a dyn HttpClient,
        policy: &'a UrlPolicy,
        resource: &'a ResourceUri,
    ) -> Self {
        Self {
            http,
            policy,
            resource,
            checks: Vec::new(),
            insecure: Vec::new(),
        }
    }

    fn push(&mut self, spec: Spec, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            id: spec.id,
            key: spec.key,
            status,
            title: spec.title,
            detail: detail.into(),
        });
    }

    fn skip(&mut self, specs: &[Spec], reason: &str) {
        for spec in specs {
            self.push(*spec, Status::Skip, reason);
        }
    }

    fn pass_or(&mut self, spec: Spec, ok: bool, otherwise: Status, detail: impl Into<String>) {
        self.push(spec, if ok { Status::Pass } else { otherwise }, detail);
    }

    async fn fetch(&self, url: &Url) -> Fetched {
        if let Err(error) = self.policy.check(url).await {
            return Fetched::Error(error.to_string());
        }
        let mut request = HttpRequest::get(url.clone());
        request.timeout = self.policy.timeout();
        request.max_response_bytes = self.policy.max_document_bytes();
        request
            .headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        match self.http.execute(request).await {
            Ok(response) if response.status.is_success() => Fetched::Document(response.body),
            Ok(response) => Fetched::Status(response.status.as_u16()),
            Err(error) => Fetched::Error(error.to_string()),
        }
    }

    /// Runs every check, given the answer to a request without a token.
    pub(super) async fn run(mut self, probe: Probe) -> Vec<Check> {
        let resource_metadata = self.challenge(probe);
        if let Some(prm) = self.protected_resource(resource_metadata.as_ref()).await {
            match prm.authorization_servers.as_deref().and_then(<[_]>::first) {
                Some(issuer) => {
                    let issuer = issuer.clone();
                    self.authorization_server(&issuer).await;
                }
                None => {
                    self.skip(&[AS_FOUND], "no authorization server is named");
                    self.skip(&AS_CHECKS, "no authorization server is named");
                }
            }
        } else {
            self.skip(
                &[
                    PRM_RESOURCE,
                    PRM_SERVERS,
                    PRM_OFFLINE,
                    PRM_BEARER,
                    PRM_ACCEPTED,
                ],
                "no protected resource metadata",
            );
            self.skip(&[AS_FOUND], "no protected resource metadata");
            self.skip(&AS_CHECKS, "no protected resource metadata");
        }
        self.endpoints();
        self.checks
    }

    /// The challenge checks; returns the `resource_metadata` URL, if any.
    fn challenge(&mut self, probe: Probe) -> Option<Url> {
        let status = probe.status.as_u16();
        self.pass_or(
            CHALLENGE_STATUS,
            status == 401,
            Status::Fail,
            format!("HTTP {status}"),
        );
        let rest = [
            CHALLENGE_METADATA,
            CHALLENGE_NO_ERROR,
            CHALLENGE_SCOPE,
            CHALLENGE_OFFLINE,
        ];
        let headers = if probe.www_authenticate.is_empty() {
            "no WWW-Authenticate header".to_owned()
        } else {
            format!("WWW-Authenticate: {}", probe.www_authenticate.join(", "))
        };
        let challenge = match probe.challenge {
            Ok(Some(challenge)) => {
                self.push(CHALLENGE_BEARER, Status::Pass, headers);
                challenge
            }
            Ok(None) => {
                self.push(CHALLENGE_BEARER, Status::Fail, headers);
                self.skip(&rest, "no Bearer challenge");
                return None;
            }
            Err(error) => {
                self.push(
                    CHALLENGE_BEARER,
                    Status::Fail,
                    format!("malformed challenge: {error}"),
                );
                self.skip(&rest, "no Bearer challenge");
                return None;
            }
        };
        match &challenge.resource_metadata {
            Some(url) => self.push(CHALLENGE_METADATA, Status::Pass, url.as_str()),
            None => self.push(
                CHALLENGE_METADATA,
                Status::Fail,
                "absent: clients must guess the well-known URLs",
            ),
        }
        match &challenge.error {
            None => self.push(CHALLENGE_NO_ERROR, Status::Pass, "none"),
            Some(error) => self.push(
                CHALLENGE_NO_ERROR,
                Status::Fail,
                format!("error=\"{}\" although no token was sent", error.as_str()),
            ),
        }
        match &challenge.scope {
            Some(scope) => {
                self.push(CHALLENGE_SCOPE, Status::Pass, format!("scope=\"{scope}\""));
                let offline = has_offline_access(scope.iter());
                self.pass_or(
                    CHALLENGE_OFFLINE,
                    !offline,
                    Status::Warn,
                    if offline {
                        "offline_access is listed"
                    } else {
                        "absent"
                    },
                );
            }
            None => {
                self.push(CHALLENGE_SCOPE, Status::Warn, "no scope attribute");
                self.push(CHALLENGE_OFFLINE, Status::Pass, "no scope attribute");
            }
        }
        challenge.resource_metadata
    }

    /// Fetches and parses protected resource metadata at `url`.
    async fn prm_at(&self, url: &Url) -> Result<ProtectedResourceMetadata, String> {
        match self.fetch(url).await {
            Fetched::Document(body) => {
                ProtectedResourceMetadata::parse_with_limit(&body, self.policy.max_document_bytes())
                    .map_err(|e| format!("{url}: malformed: {e}"))
            }
            other => Err(other.describe(url)),
        }
    }

    /// The protected resource metadata checks; returns the document clients would use.
    async fn protected_resource(
        &mut self,
        from_challenge: Option<&Url>,
    ) -> Option<ProtectedResourceMetadata> {
        let well_known_url = protected_resource_metadata_url(self.resource);
        let well_known = self.prm_at(&well_known_url).await;
        match &well_known {
            Ok(_) => self.push(PRM_WELL_KNOWN, Status::Pass, well_known_url.as_str()),
            Err(detail) => self.push(PRM_WELL_KNOWN, Status::Fail, detail.clone()),
        }
        let (url, document) = match from_challenge {
            Some(url) if *url == well_known_url => {
                self.pass_or(
                    PRM_CHALLENGE_URL,
                    well_known.is_ok(),
                    Status::Fail,
                    "the well-known URL",
                );
                (well_known_url, well_known.ok()?)
            }
            Some(url) => match self.prm_at(url).await {
                Ok(document) => {
                    self.push(PRM_CHALLENGE_URL, Status::Pass, url.as_str());
                    (url.clone(), document)
                }
                Err(detail) => {
                    self.push(PRM_CHALLENGE_URL, Status::Fail, detail);
                    (well_known_url, well_known.ok()?)
                }
            },
            None => {
                self.push(
                    PRM_CHALLENGE_URL,
                    Status::Skip,
                    "the challenge has no resource_metadata",
                );
                (well_known_url, well_known.ok()?)
            }
        };
        self.judge_protected_resource(&url, &document);
        Some(document)
    }

    fn judge_protected_resource(&mut self, url: &Url, document: &ProtectedResourceMetadata) {
        let found = document.resource.as_str();
        self.pass_or(
            PRM_RESOURCE,
            document.resource == *self.resource,
            Status::Fail,
            format!("resource {found} (expected {})", self.resource),
        );
        let servers = document.authorization_servers.clone().unwrap_or_default();
        self.pass_or(
            PRM_SERVERS,
            !servers.is_empty(),
            Status::Fail,
            if servers.is_empty() {
                "missing or empty".to_owned()
            } else {
                servers
                    .iter()
                    .map(Issuer::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        let offline = document
            .scopes_supported
            .as_ref()
            .is_some_and(|s| has_offline_access(s.iter()));
        self.pass_or(
            PRM_OFFLINE,
            !offline,
            Status::Warn,
            if offline {
                "offline_access is listed"
            } else {
                "absent"
            },
        );
        match &document.bearer_methods_supported {
            None => self.push(PRM_BEARER, Status::Pass, "bearer_methods_supported absent"),
            Some(methods) => {
                let listed: Vec<&str> = methods.iter().map(BearerMethod::as_str).collect();
                self.pass_or(
                    PRM_BEARER,
                    methods.iter().all(|m| *m == BearerMethod::Header),
                    Status::Fail,
                    format!("bearer_methods_supported {listed:?}"),
                );
            }
        }
        match document.clone().validate(self.resource) {
            Ok(_) => self.push(PRM_ACCEPTED, Status::Pass, url.as_str()),
            Err(error) => self.push(PRM_ACCEPTED, Status::Fail, error.to_string()),
        }
        // Endpoint security of the MCP server and its metadata; the AS endpoints follow later.
        let mut insecure: Vec<String> = [self.resource.url(), url]
            .into_iter()
            .filter(|u| !is_secure(u))
            .map(|u| u.to_string())
            .collect();
        let expected = document.resource.clone();
        if let Err(ProtectedResourceMetadataError::InvalidJwksUri { url, problem }) =
            document.clone().validate(&expected)
        {
            insecure.push(format!("jwks_uri {url}: {problem}"));
        }
        self.insecure.extend(insecure);
    }

    /// The authorization server checks for `issuer` (the first one the resource names, which
    /// clients use).
    async fn authorization_server(&mut self, issuer: &Issuer) {
        let candidates = authorization_server_metadata_urls(issuer);
        let mut found: Option<(Url, AuthorizationServerMetadata)> = None;
        let mut rfc8414 = None;
        let mut oidc: Vec<String> = Vec::new();
        let mut tried = Vec::new();
        for (index, url) in candidates.iter().enumerate() {
            let outcome = match self.fetch(url).await {
                Fetched::Document(body) => AuthorizationServerMetadata::parse_with_limit(
                    &body,
                    self.policy.max_document_bytes(),
                )
                .map_err(|e| format!("{url}: malformed: {e}")),
                other => Err(other.describe(url)),
            };
            let ok = outcome.is_ok();
            if index == 0 {
                rfc8414 = Some((ok, outcome.as_ref().err().cloned()));
            } else if ok {
                oidc.push(url.to_string());
            }
            match outcome {
                Ok(document) if found.is_none() => found = Some((url.clone(), document)),
                Ok(_) => {}
                Err(detail) => tried.push(detail),
            }
        }
        let Some((url, document)) = found else {
            self.push(
                AS_FOUND,
                Status::Fail,
                format!("tried {}", tried.join("; ")),
            );
            self.skip(&AS_CHECKS, "no authorization server metadata");
            return;
        };
        self.push(AS_FOUND, Status::Pass, format!("{url} (issuer {issuer})"));
        match rfc8414 {
            Some((true, _)) => self.push(AS_RFC8414, Status::Pass, "found"),
            Some((false, detail)) => self.push(
                AS_RFC8414,
                Status::Warn,
                detail.unwrap_or_else(|| "not found".to_owned()),
            ),
            None => self.push(AS_RFC8414, Status::Warn, "not tried"),
        }
        self.pass_or(
            AS_OIDC,
            !oidc.is_empty(),
            Status::Warn,
            if oidc.is_empty() {
                "not found (clients that try only OpenID discovery fail)".to_owned()
            } else {
                oidc.join(", ")
            },
        );
        self.judge_authorization_server(issuer, &document);
    }

    fn judge_authorization_server(
        &mut self,
        issuer: &Issuer,
        document: &AuthorizationServerMetadata,
    ) {
        self.pass_or(
            AS_ISSUER,
            document.issuer.as_str() == issuer.as_str(),
            Status::Fail,
            format!("issuer {} (expected {issuer})", document.issuer),
        );
        let methods: Vec<&str> = document
            .code_challenge_methods_supported
            .iter()
            .flatten()
            .map(CodeChallengeMethod::as_str)
            .collect();
        let methods_text = if document.code_challenge_methods_supported.is_some() {
            format!("{methods:?}")
        } else {
            "absent".to_owned()
        };
        let listed = |m: &CodeChallengeMethod| {
            document
                .code_challenge_methods_supported
                .as_ref()
                .is_some_and(|all| all.contains(m))
        };
        self.pass_or(
            AS_S256,
            listed(&CodeChallengeMethod::S256),
            Status::Fail,
            methods_text.clone(),
        );
        self.pass_or(
            AS_NO_PLAIN,
            !listed(&CodeChallengeMethod::Plain),
            Status::Warn,
            methods_text,
        );
        let code = document
            .response_types_supported
            .as_ref()
            .is_some_and(|t| t.contains(&ResponseType::Code));
        let grants: Vec<&str> = document
            .grant_types_supported
            .iter()
            .flatten()
            .map(GrantType::as_str)
            .collect();
        let legacy = grants.iter().any(|g| matches!(*g, "implicit" | "password"));
        let code_grant = document
            .grant_types_supported
            .as_ref()
            .is_none_or(|g| g.contains(&GrantType::AuthorizationCode));
        self.pass_or(
            AS_CODE,
            code && code_grant && !legacy,
            Status::Fail,
            format!(
                "response type code {}; grant_types_supported {}",
                if code { "listed" } else { "not listed" },
                if document.grant_types_supported.is_some() {
                    format!("{grants:?}")
                } else {
                    "absent (authorization_code by default)".to_owned()
                }
            ),
        );
        let iss = document.authorization_response_iss_parameter_supported == Some(true);
        self.pass_or(
            AS_ISS,
            iss,
            Status::Warn,
            if iss {
                "authorization_response_iss_parameter_supported: true"
            } else {
                "not advertised: clients cannot detect mix-up attacks"
            },
        );
        let cimd = document.client_id_metadata_document_supported == Some(true);
        let registration = document.registration_endpoint.as_ref();
        self.pass_or(
            AS_REGISTRATION,
            cimd || registration.is_some(),
            Status::Warn,
            format!(
                "client ID metadata documents: {}; dynamic registration: {}",
                if cimd { "supported" } else { "no" },
                registration.map_or_else(|| "no".to_owned(), ToString::to_string)
            ),
        );
        let revocation = document.revocation_endpoint.as_ref();
        self.pass_or(
            AS_REVOCATION,
            revocation.is_some(),
            Status::Warn,
            revocation.map_or_else(|| "absent".to_owned(), ToString::to_string),
        );
        let jwks = document.jwks_uri.as_ref();
        self.pass_or(
            AS_JWKS,
            jwks.is_some(),
            Status::Warn,
            jwks.map_or_else(|| "absent".to_owned(), ToString::to_string),
        );
        match document.clone().validate(issuer) {
            Ok(_) => self.push(
                AS_ACCEPTED,
                Status::Pass,
                "issuer, endpoints, S256 and code flow",
            ),
            Err(error) => self.push(AS_ACCEPTED, Status::Fail, error.to_string()),
        }
        // Endpoint security, judged by the validator against the document's own issuer so that an
        // issuer mismatch (reported above) does not hide it.
        match document.clone().validate(&document.issuer) {
            Err(AuthorizationServerMetadataError::InvalidEndpoint {
                member,
                url,
                problem,
            }) => {
                self.insecure.push(format!("{member} {url}: {problem}"));
            }
            Err(
                error @ (AuthorizationServerMetadataError::MissingAuthorizationEndpoint
                | AuthorizationServerMetadataError::MissingTokenEndpoint),
            ) => self.insecure.push(error.to_string()),
            _ => {}
        }
    }

    /// The endpoint-security row, from everything seen.
    fn endpoints(&mut self) {
        if self.insecure.is_empty() {
            self.push(
                ENDPOINTS,
                Status::Pass,
                "MCP server, metadata and authorization server endpoints",
            );
        } else {
            let detail = self.insecure.join("; ");
            self.push(ENDPOINTS, Status::Fail, detail);
        }
    }
}
