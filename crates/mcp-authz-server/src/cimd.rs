//! Client ID Metadata Documents: fetched with an SSRF guard, validated, cached per HTTP caching headers
//! (REQUIREMENTS AS-10, SEC-6).
//!
//! The fetch goes through the workspace's one HTTP client ([`ReqwestHttpClient`]) and the guard is
//! enforced on the address actually connected to: the client resolves names through
//! [`GuardedResolver`], which drops every non-public address, and IP-literal hosts are checked before
//! any connection. Redirects are not followed, proxies from the environment are ignored, the body is
//! read up to the size limit and the whole fetch is bounded in time.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::{ACCEPT, CACHE_CONTROL};
use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientIdMetadataDocument, GrantType, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord, NumericDate};
use mcp_authz_token::fetch::{
    AddressGuard, FetchError, HttpClient, HttpRequest, PolicyError, ReqwestHttpClient,
};

pub use crate::cimd_error::CimdError;
use crate::config::{ConfigError, MetadataDocumentConfig};
use crate::fetch_budget::FetchBudget;

/// `true` for addresses a server-side fetch may reach by default: the shared classifier
/// ([`mcp_authz_metadata::classify_address`], SEC-12) says public, whatever IPv4 an IPv6 address embeds.
pub fn is_public_address(ip: IpAddr) -> bool {
    mcp_authz_metadata::classify_address(ip).is_public()
}

/// A DNS resolver that keeps only the addresses the policy allows, so the connection can only go to
/// a checked address.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    /// A resolver refusing non-public addresses unless `allow_private`.
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }

    /// `true` if the policy allows connecting to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public_address(ip)
    }
}

/// Keeps the addresses the policy allows; a host left with none is refused.
impl AddressGuard for GuardedResolver {
    fn admit(&self, host: &str, resolved: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, PolicyError> {
        let first = resolved.first().map(SocketAddr::ip);
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|a| self.allows(a.ip()))
            .collect();
        match first {
            _ if !allowed.is_empty() => Ok(allowed),
            Some(address) => Err(PolicyError::ForbiddenAddress {
                host: host.to_owned(),
                address,
            }),
            None => Err(PolicyError::Resolve {
                host: host.to_owned(),
                description: "no addresses".to_owned(),
            }),
        }
    }
}

/// Fetches and validates Client ID Metadata Documents, within the [`FetchBudget`].
#[derive(Debug, Clone)]
pub(crate) struct MetadataFetcher {
    http: ReqwestHttpClient,
    guard: GuardedResolver,
    config: MetadataDocumentConfig,
    budget: Arc<FetchBudget>,
}

impl MetadataFetcher {
    pub(crate) fn new(config: MetadataDocumentConfig) -> Result<Self, ConfigError> {
        let guard = GuardedResolver::new(config.allow_private_addresses);
        let mut builder = ReqwestHttpClient::builder()
            .guard(guard)
            .timeout(config.timeout)
            .user_agent("mcp-authz-server");
        for der in &config.extra_root_certificates {
            builder = builder.root_certificate_der(der.clone());
        }
        let http = builder.build().map_err(|_| ConfigError::HttpClient)?;
        Ok(Self {
            http,
            guard,
            config,
            budget: Arc::new(FetchBudget::new()),
        })
    }

    /// Outbound fetches started so far (SEC-12).
    pub(crate) fn fetches_started(&self) -> u64 {
        self.budget.started()
    }

    /// Fetches the document of `client_id` on behalf of `peer` and turns it into a cached client
    /// record. An IP-literal host the guard refuses is refused before anything else; then the
    /// [`FetchBudget`] decides whether a fetch starts at all, and a failed fetch is remembered.
    pub(crate) async fn fetch(
        &self,
        client_id: &ClientId,
        now: NumericDate,
        peer: &str,
    ) -> Result<ClientRecord, CimdError> {
        let url = client_id
            .metadata_document_url()
            .ok_or(CimdError::NotADocumentUrl)?;
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(address) = literal
            && !self.guard.allows(address)
        {
            return Err(FetchError::Policy(PolicyError::ForbiddenAddress {
                host: url.host_str().unwrap_or_default().to_owned(),
                address,
            })
            .into());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let _permit = self.budget.admit(url.as_str(), &host, peer)?;
        let result = self.fetch_admitted(client_id, &url, now).await;
        match &result {
            Ok(_) => self.budget.succeeded(url.as_str()),
            Err(error) => self.budget.failed(url.as_str(), &host, error),
        }
        result
    }

    async fn fetch_admitted(
        &self,
        client_id: &ClientId,
        url: &url::Url,
        now: NumericDate,
    ) -> Result<ClientRecord, CimdError> {
        let mut request = HttpRequest::get(url.clone());
        request
            .headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        request.timeout = self.config.timeout;
        request.max_response_bytes = self.config.max_size;
        let response = self.http.execute(request).await.map_err(FetchError::from)?;
        if response.status != http::StatusCode::OK {
            return Err(FetchError::Status {
                url: url.as_str().to_owned(),
                status: response.status.as_u16(),
            }
            .into());
        }
        let max_age = response
            .headers
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(cache_max_age);
        let body = response.body;
        let document = ClientIdMetadataDocument::parse_with_limit(&body, self.config.max_size)
            .map_err(|e| CimdError::Invalid(e.to_string()))?
            .validate(client_id)
            .map_err(|e| CimdError::Invalid(e.to_string()))?;
        let ttl = max_age
            .unwrap_or(self.config.min_cache)
            .clamp(self.config.min_cache, self.config.max_cache);
        let metadata = &document.document().metadata;
        let application_type = metadata.application_type.clone().unwrap_or(
            if document.redirect_uris().iter().all(|u| u.is_https()) {
                ApplicationType::Web
            } else {
                ApplicationType::Native
            },
        );
        Ok(ClientRecord {
            client_id: client_id.clone(),
            kind: ClientKind::MetadataDocument {
                fetched_at: now,
                expires_at: now.saturating_add(ttl),
            },
            secret_hash: None,
            secret_expires_at: None,
            redirect_uris: document.redirect_uris().to_vec(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            application_type,
            client_name: Some(document.client_name().to_owned()),
            allowed_resources: None,
            allowed_scope: metadata.scope.clone(),
            metadata_json: String::from_utf8_lossy(&body).into_owned(),
            created_at: now,
        })
    }
}

/// `max-age` of a `Cache-Control` header; `no-store` / `no-cache` count as 0.
fn cache_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            max_age = secs
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public_address(ip), "{ip}");
            assert!(!GuardedResolver::new(false).allows(ip));
            assert!(GuardedResolver::new(true).allows(ip));
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_guard_connects_only_to_public_addresses() {
        let at = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 443);
        let mixed = vec![at("127.0.0.1"), at("93.184.216.34"), at("169.254.169.254")];
        let strict = GuardedResolver::new(false);
        assert_eq!(
            strict.admit("rebind.example", mixed.clone()).unwrap(),
            vec![at("93.184.216.34")]
        );
        assert_eq!(
            strict.admit("rebind.example", vec![at("10.0.0.1"), at("::1")]),
            Err(PolicyError::ForbiddenAddress {
                host: "rebind.example".to_owned(),
                address: "10.0.0.1".parse().unwrap(),
            })
        );
        assert!(matches!(
            strict.admit("nothing.example", Vec::new()),
            Err(PolicyError::Resolve { .. })
        ));
        assert_eq!(
            GuardedResolver::new(true).admit("intranet.example", mixed.clone()),
            Ok(mixed)
        );
    }

    #[test]
    fn cache_control_parsing() {
        assert_eq!(
            cache_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(cache_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(cache_max_age("public"), None);
        assert_eq!(cache_max_age("max-age=abc"), None);
    }
}
