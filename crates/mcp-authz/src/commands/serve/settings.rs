//! `serve`'s settings, resolved from its flags, their `MCP_AUTHZ_*` variables, the configuration file
//! and the defaults (in this order of precedence).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mcp_authz_metadata::{Issuer, ResourceUri, Scope};
use mcp_authz_server::RateLimit;

use super::args::ServeArgs;
use crate::error::SettingsError;
use crate::settings::{
    FileSettings, LogFormat, LogLevel, SigningAlg, StorageSettings, load_file, merge_storage,
};

/// The default listen address.
const DEFAULT_BIND: &str = "127.0.0.1:8400";

/// Defaults of the connection limits (REQUIREMENTS SEC-18).
const DEFAULT_HEADER_TIMEOUT: u64 = 10;
const DEFAULT_BODY_TIMEOUT: u64 = 30;
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_SHUTDOWN_TIMEOUT: u64 = 10;
/// The largest timeout accepted: one day.
const MAX_LIMIT_SECONDS: u64 = 86_400;
/// The largest connection cap accepted.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// A protected resource the authorization server issues tokens for, besides its own demo server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtraResource {
    /// Its canonical URI (the audience).
    pub(crate) resource: ResourceUri,
    /// The scopes its tokens may carry.
    pub(crate) scopes: Scope,
}

impl ExtraResource {
    /// Parses `URL[=SCOPE,SCOPE,...]`; without scopes, the demo server's.
    fn parse(text: &str, default_scopes: &str) -> Result<Self, SettingsError> {
        let invalid = |reason: String| SettingsError::Invalid {
            what: "--resource",
            reason: format!("{text:?}: {reason}"),
        };
        let (url, scopes) = match text.split_once('=') {
            Some((url, scopes)) => (url, scopes.replace(',', " ")),
            None => (text, default_scopes.to_owned()),
        };
        Ok(Self {
            resource: ResourceUri::parse(url).map_err(|e| invalid(e.to_string()))?,
            scopes: Scope::parse(&scopes).map_err(|e| invalid(e.to_string()))?,
        })
    }
}

/// The certificate chain and private key `serve` terminates TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub(crate) cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
}

/// What every listener of `serve` allows a connection (REQUIREMENTS SEC-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// Time to send a complete request head (and to finish the TLS handshake); also the keep-alive
    /// idle limit.
    pub(crate) header_timeout: Duration,
    /// Time for a request body to arrive once it is read.
    pub(crate) body_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Time open connections get to finish after a shutdown signal.
    pub(crate) shutdown_timeout: Duration,
}

/// Every setting of `serve`, resolved (the log level is resolved earlier, by [`log_level`]).
#[derive(Debug, Clone)]
pub(crate) struct ServeSettings {
    /// The listen address.
    pub(crate) bind: SocketAddr,
    /// The issuer; default `http(s)://<bound address>`.
    pub(crate) issuer: Option<String>,
    /// Where state lives (unused in resource-server-only mode).
    pub(crate) storage: StorageSettings,
    /// `--dev`.
    pub(crate) dev: bool,
    /// Serve https with these files.
    pub(crate) tls: Option<TlsFiles>,
    /// Resource-server-only mode: the external authorization server's issuer.
    pub(crate) authorization_server: Option<Issuer>,
    /// More resources the authorization server issues tokens for.
    pub(crate) resources: Vec<ExtraResource>,
    /// The access-token lifetime in seconds.
    pub(crate) access_token_ttl: Option<u64>,
    /// How many days audit events are kept (`None`: the server's default).
    pub(crate) audit_retention_days: Option<u64>,
    /// The service name on the login and consent pages (`None`: the server's default).
    pub(crate) service_name: Option<String>,
    /// The settings file's scope descriptions (scope token -> text), over the demo's.
    pub(crate) scope_descriptions: std::collections::BTreeMap<String, String>,
    /// The settings file's longer scope explanations (scope token -> text), over the demo's.
    pub(crate) scope_details: std::collections::BTreeMap<String, String>,
    /// The operator's page template directory.
    pub(crate) templates: Option<PathBuf>,
    /// The algorithm of new signing keys.
    pub(crate) signing_alg: Option<SigningAlg>,
    /// `--dangerous-allow-loopback-cimd` (command line only): the PEM roots to trust.
    pub(crate) dangerous_loopback_cimd: Option<PathBuf>,
    /// Timeouts and the connection cap.
    pub(crate) limits: ConnectionLimits,
    /// The operator's rate limits (`None`: the server's default).
    pub(crate) rate_limits: RateLimits,
    /// `--metrics-bind`: where `/metrics` is served, if anywhere.
    pub(crate) metrics_bind: Option<SocketAddr>,
    /// `--trusted-proxy`: whose forwarded client addresses are believed.
    pub(crate) trusted_proxies: std::sync::Arc<mcp_authz_server::TrustedProxies>,
}

/// The rate limits an operator set (`--authorize-rate-limit`, `--token-rate-limit`,
/// `--register-rate-limit`); `None` keeps the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RateLimits {
    /// The authorization endpoint and its pages.
    pub(crate) authorize: Option<RateLimit>,
    /// The token, revocation and introspection endpoints.
    pub(crate) token: Option<RateLimit>,
    /// Dynamic registration.
    pub(crate) register: Option<RateLimit>,
}

/// The rate limits from the flags (and their variables), else the file.
fn rate_limits(args: &ServeArgs, file: &FileSettings) -> Result<RateLimits, SettingsError> {
    let parse = |what: &'static str, text: Option<&String>| {
        text.map(|text| {
            text.parse::<RateLimit>()
                .map_err(|e| SettingsError::Invalid {
                    what,
                    reason: e.to_string(),
                })
        })
        .transpose()
    };
    Ok(RateLimits {
        authorize: parse(
            "--authorize-rate-limit",
            args.authorize_rate_limit
                .as_ref()
                .or(file.authorize_rate_limit.as_ref()),
        )?,
        token: parse(
            "--token-rate-limit",
            args.token_rate_limit
                .as_ref()
                .or(file.token_rate_limit.as_ref()),
        )?,
        register: parse(
            "--register-rate-limit",
            args.register_rate_limit
                .as_ref()
                .or(file.register_rate_limit.as_ref()),
        )?,
    })
}

/// Resolves `serve`'s settings: flag or environment variable, then file, then default.
pub(crate) fn resolve(args: &ServeArgs, demo_scopes: &str) -> Result<ServeSettings, SettingsError> {
    let file = load_file(&args.storage)?;
    let bind = match args.bind.or(file.bind) {
        Some(bind) => bind,
        None => DEFAULT_BIND.parse().map_err(|_| SettingsError::Invalid {
            what: "default bind address",
            reason: DEFAULT_BIND.to_owned(),
        })?,
    };
    let tls = match (
        args.tls_cert.clone().or(file.tls_cert.clone()),
        args.tls_key.clone().or(file.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            return Err(SettingsError::Conflict(
                "--tls-cert and --tls-key go together: set both or neither",
            ));
        }
    };
    let authorization_server = args
        .authorization_server
        .clone()
        .or(file.authorization_server.clone())
        .map(|text| {
            Issuer::parse(&text).map_err(|e| SettingsError::Invalid {
                what: "--authorization-server",
                reason: format!("{text:?}: {e}"),
            })
        })
        .transpose()?;
    let resource_texts = if args.resources.is_empty() {
        file.resources.clone().unwrap_or_default()
    } else {
        args.resources.clone()
    };
    let resources = resource_texts
        .iter()
        .map(|text| ExtraResource::parse(text, demo_scopes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServeSettings {
        bind,
        issuer: args.issuer.clone().or(file.issuer.clone()),
        storage: merge_storage(&args.storage, &file),
        dev: args.dev.or(file.dev).unwrap_or(false),
        tls,
        authorization_server,
        resources,
        access_token_ttl: args.access_token_ttl.or(file.access_token_ttl),
        audit_retention_days: args.audit_retention_days.or(file.audit_retention_days),
        service_name: args.service_name.clone().or(file.service_name.clone()),
        scope_descriptions: file.scope_descriptions.clone().unwrap_or_default(),
        scope_details: file.scope_details.clone().unwrap_or_default(),
        templates: args.templates.clone().or(file.templates.clone()),
        signing_alg: args.signing_alg.or(file.signing_alg),
        dangerous_loopback_cimd: args.dangerous_allow_loopback_cimd.clone(),
        limits: limits(args, &file)?,
        rate_limits: rate_limits(args, &file)?,
        metrics_bind: args.metrics_bind.or(file.metrics_bind),
        trusted_proxies: std::sync::Arc::new(trusted_proxies(args, &file)?),
    })
}

/// The trusted proxies of the flags (and their variable), else of the file.
fn trusted_proxies(
    args: &ServeArgs,
    file: &FileSettings,
) -> Result<mcp_authz_server::TrustedProxies, SettingsError> {
    if !args.trusted_proxies.is_empty() {
        return Ok(mcp_authz_server::TrustedProxies::new(
            args.trusted_proxies.iter().copied(),
        ));
    }
    let networks = file
        .trusted_proxies
        .iter()
        .flatten()
        .map(|text| {
            super::args::parse_network(text).map_err(|reason| SettingsError::Invalid {
                what: "trusted_proxies",
                reason,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(mcp_authz_server::TrustedProxies::new(networks))
}

/// The connection limits: each at least 1 (0 would refuse or cut off every client) and at most
/// [`MAX_LIMIT_SECONDS`] / [`MAX_CONNECTIONS_LIMIT`] (larger values mean "no limit" and overflow
/// timers).
fn limits(args: &ServeArgs, file: &FileSettings) -> Result<ConnectionLimits, SettingsError> {
    let seconds = |what: &'static str, value: Option<u64>, default: u64| match value {
        Some(v) if !(1..=MAX_LIMIT_SECONDS).contains(&v) => Err(SettingsError::Invalid {
            what,
            reason: format!("must be between 1 and {MAX_LIMIT_SECONDS} seconds"),
        }),
        value => Ok(Duration::from_secs(value.unwrap_or(default))),
    };
    let max_connections = match args.max_connections.or(file.max_connections) {
        Some(n) if !(1..=MAX_CONNECTIONS_LIMIT).contains(&n) => {
            return Err(SettingsError::Invalid {
                what: "--max-connections",
                reason: format!("must be between 1 and {MAX_CONNECTIONS_LIMIT}"),
            });
        }
        value => value.unwrap_or(DEFAULT_MAX_CONNECTIONS),
    };
    Ok(ConnectionLimits {
        header_timeout: seconds(
            "--header-timeout",
            args.header_timeout.or(file.header_timeout),
            DEFAULT_HEADER_TIMEOUT,
        )?,
        body_timeout: seconds(
            "--body-timeout",
            args.body_timeout.or(file.body_timeout),
            DEFAULT_BODY_TIMEOUT,
        )?,
        max_connections,
        shutdown_timeout: seconds(
            "--shutdown-timeout",
            args.shutdown_timeout.or(file.shutdown_timeout),
            DEFAULT_SHUTDOWN_TIMEOUT,
        )?,
    })
}

/// The log level for `serve` before anything else runs: a broken file is reported later by
/// [`resolve`], so it is ignored here.
pub(crate) fn log_format(args: &ServeArgs) -> LogFormat {
    args.log_format
        .or_else(|| load_file(&args.storage).ok().and_then(|f| f.log_format))
        .unwrap_or_default()
}

/// The log level of `serve`: the flag or variable, else the file's, else info.
pub(crate) fn log_level(args: &ServeArgs) -> tracing::Level {
    args.log_level
        .or_else(|| load_file(&args.storage).ok().and_then(|f| f.log_level))
        .unwrap_or(LogLevel::Info)
        .level()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse_with_and_without_scopes() {
        let r = ExtraResource::parse("https://mcp.example.com/mcp=a,b:c", "x").unwrap();
        assert_eq!(r.resource.as_str(), "https://mcp.example.com/mcp");
        assert_eq!(r.scopes, Scope::parse("a b:c").unwrap());
        let d = ExtraResource::parse("https://mcp.example.com/mcp", "x y").unwrap();
        assert_eq!(d.scopes, Scope::parse("x y").unwrap());
        assert!(ExtraResource::parse("not a url=a", "x").is_err());
    }

    proptest::proptest! {
        /// Any `--resource` text is a value or an error, never a panic.
        #[test]
        fn any_resource_text_parses_or_errs(text in "\\PC{0,80}") {
            let _ = ExtraResource::parse(&text, "mcp:tools");
        }

        /// `URL=SCOPES` round trip: the canonical URI and the scopes come back.
        #[test]
        fn resource_with_scopes_round_trips(
            host in "[a-z]{1,10}\\.example",
            path in "(/[a-z0-9]{1,6}){0,3}",
            scopes in proptest::collection::btree_set("[a-z][a-z:._-]{0,8}", 1..4),
        ) {
            let url = format!("https://{host}{path}");
            let joined = scopes.iter().cloned().collect::<Vec<_>>();
            let r = ExtraResource::parse(&format!("{url}={}", joined.join(",")), "x").unwrap();
            proptest::prop_assert_eq!(r.resource, ResourceUri::parse(&url).unwrap());
            proptest::prop_assert_eq!(r.scopes, Scope::parse(&joined.join(" ")).unwrap());
        }
    }
}
