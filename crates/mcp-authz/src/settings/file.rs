//! The configuration file: TOML, every key optional, unknown keys refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{LogFormat, LogLevel, SigningAlg};
use crate::error::SettingsError;

/// The file's name under the configuration directory.
const FILE_NAME: &str = "mcp-authz/config.toml";

/// The settings a configuration file may hold; see `config.example.toml` for each key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSettings {
    pub(crate) bind: Option<SocketAddr>,
    pub(crate) issuer: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) store: Option<String>,
    pub(crate) dangerous_allow_shared_data_dir: Option<bool>,
    pub(crate) dev: Option<bool>,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) authorization_server: Option<String>,
    pub(crate) resources: Option<Vec<String>>,
    pub(crate) access_token_ttl: Option<u64>,
    pub(crate) audit_retention_days: Option<u64>,
    pub(crate) service_name: Option<String>,
    /// Scope token -> what it allows, shown on the consent page (over the demo's own).
    pub(crate) scope_descriptions: Option<std::collections::BTreeMap<String, String>>,
    /// Scope token -> a longer explanation, folded under the description on the consent page.
    pub(crate) scope_details: Option<std::collections::BTreeMap<String, String>>,
    /// A directory of page templates (docs/pages.md).
    pub(crate) templates: Option<PathBuf>,
    pub(crate) signing_alg: Option<SigningAlg>,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) metrics_bind: Option<SocketAddr>,
    /// Reverse proxies whose forwarded client address is believed (`--trusted-proxy`).
    pub(crate) trusted_proxies: Option<Vec<String>>,
    pub(crate) header_timeout: Option<u64>,
    pub(crate) body_timeout: Option<u64>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) shutdown_timeout: Option<u64>,
    pub(crate) authorize_rate_limit: Option<String>,
    pub(crate) token_rate_limit: Option<String>,
    pub(crate) register_rate_limit: Option<String>,
}

impl FileSettings {
    /// Reads `explicit` (which must exist), else the default file if it exists, else nothing.
    pub(crate) fn load(explicit: Option<&Path>) -> Result<Self, SettingsError> {
        let path = match explicit {
            Some(path) => path.to_owned(),
            None => match default_path() {
                Some(path) if path.is_file() => path,
                _ => return Ok(Self::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::ReadFile {
            path: path.display().to_string(),
            source,
        })?;
        let mut settings = parse(&text).map_err(|(line, message)| SettingsError::File {
            path: path.display().to_string(),
            line,
            message,
        })?;
        // Relative paths in the file are relative to the file's directory, not to the working
        // directory of whoever starts the server.
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut settings.data_dir,
            &mut settings.tls_cert,
            &mut settings.tls_key,
            &mut settings.templates,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(settings)
    }
}

/// Parses the TOML text; on error the 1-based line and a one-line message.
fn parse(text: &str) -> Result<FileSettings, (usize, String)> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text.get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1)
        });
        let message = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (line, message)
    })
}

/// `$XDG_CONFIG_HOME/mcp-authz/config.toml`, else `~/.config/mcp-authz/config.toml`.
fn default_path() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(config) = non_empty("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(config).join(FILE_NAME));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".config").join(FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let file = parse(
            "bind = \"127.0.0.1:9000\"\nissuer = \"https://auth.example.com\"\n\
             data_dir = \"/var/lib/mcp-authz\"\ndev = false\nresources = [\"https://x.example/mcp=a,b\"]\n\
             access_token_ttl = 300\nlog_level = \"debug\"\nsigning_alg = \"eddsa\"\n\
             header_timeout = 5\nbody_timeout = 20\nmax_connections = 64\nshutdown_timeout = 3\n",
        )
        .unwrap();
        assert_eq!(file.bind, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(file.log_level, Some(LogLevel::Debug));
        assert_eq!(file.access_token_ttl, Some(300));
        assert_eq!(file.signing_alg, Some(SigningAlg::Eddsa));
        assert_eq!(file.resources.unwrap().len(), 1);
        assert_eq!(file.header_timeout, Some(5));
        assert_eq!(file.body_timeout, Some(20));
        assert_eq!(file.max_connections, Some(64));
        assert_eq!(file.shutdown_timeout, Some(3));
    }

    #[test]
    fn the_example_file_parses_and_every_key_in_it_is_known() {
        let example = crate::settings::EXAMPLE_CONFIG;
        assert!(parse(example).is_ok());
        // Uncommented, every sample line is a valid setting.
        let uncommented: String = example
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.contains(" = ") && !l.starts_with(' '))
            .filter(|l| !l.starts_with("store ") && !l.starts_with("authorization_server "))
            .map(|l| format!("{l}\n"))
            .collect();
        let file = parse(&uncommented).unwrap();
        assert_eq!(file.bind, Some("127.0.0.1:8400".parse().unwrap()));
        assert_eq!(file.access_token_ttl, Some(600));
        assert_eq!(file.audit_retention_days, Some(90));
        assert_eq!(file.signing_alg, Some(SigningAlg::Es256));
        assert!(file.tls_cert.is_some() && file.tls_key.is_some());
        assert_eq!(file.resources.map(|r| r.len()), Some(1));
        assert_eq!(file.service_name.as_deref(), Some("mcp-authz"));
        assert_eq!(
            file.scope_descriptions.unwrap()["notes:read"],
            "Read your notes"
        );
    }

    #[test]
    fn scope_descriptions_are_a_table() {
        let file = parse("[scope_descriptions]\n\"notes:read\" = \"Read <your> notes\"\n").unwrap();
        assert_eq!(
            file.scope_descriptions.unwrap()["notes:read"],
            "Read <your> notes"
        );
        assert!(parse("scope_descriptions = 3\n").is_err());
        let file = parse("[scope_details]\n\"notes:read\" = \"Longer\"\n").unwrap();
        assert_eq!(file.scope_details.unwrap()["notes:read"], "Longer");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let (line, message) = parse("bind = \"127.0.0.1:0\"\n\nlisten = 1\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("unknown field `listen`"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn a_bad_value_is_named_with_its_line() {
        let (line, message) = parse("dev = true\nbind = \"not an address\"\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(!message.is_empty());
        let (line, _) = parse("bind = [\n").unwrap_err();
        assert!(line >= 1);
    }

    proptest::proptest! {
        /// Any file text is settings or a one-line error whose line lies within the text.
        #[test]
        fn any_text_parses_or_names_a_line(text in "\\PC{0,200}|[a-z_]{1,12} = \\PC{0,40}") {
            if let Err((line, message)) = parse(&text) {
                proptest::prop_assert!(line >= 1 && line <= text.matches('\n').count() + 1);
                proptest::prop_assert!(!message.contains('\n'));
            }
        }
    }
}
