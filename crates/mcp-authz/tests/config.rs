//! Settings of `serve`: flag > `MCP_AUTHZ_*` environment variable > configuration file > default,
//! observed through the address the server binds; and one-line errors for bad files.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod operator_support;

use operator_support::{Server, command, run};

#[test]
fn flags_beat_environment_beat_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    // Relative paths in the file are relative to the file.
    std::fs::write(&config, "bind = \"127.0.0.2:0\"\ndata_dir = \"state\"\n").unwrap();
    let log = dir.path().join("serve.log");

    let mut file_only = command(dir.path());
    file_only.arg("serve").arg("--config").arg(&config);
    let server = Server::start(file_only, &log);
    assert!(
        server.base.starts_with("http://127.0.0.2:"),
        "{}",
        server.base
    );
    assert!(dir.path().join("state/mcp-authz.sqlite3").exists());
    drop(server);

    let mut env = command(dir.path());
    env.arg("serve")
        .env("MCP_AUTHZ_CONFIG", &config)
        .env("MCP_AUTHZ_BIND", "127.0.0.3:0");
    let server = Server::start(env, &log);
    assert!(
        server.base.starts_with("http://127.0.0.3:"),
        "{}",
        server.base
    );
    drop(server);

    let mut flag = command(dir.path());
    flag.args(["serve", "--bind", "127.0.0.4:0", "--config"])
        .arg(&config)
        .env("MCP_AUTHZ_BIND", "127.0.0.3:0");
    let server = Server::start(flag, &log);
    assert!(
        server.base.starts_with("http://127.0.0.4:"),
        "{}",
        server.base
    );
    drop(server);
}

#[test]
fn the_default_configuration_file_is_read_when_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config/mcp-authz");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), "bind = \"127.0.0.5:0\"\n").unwrap();
    let mut serve = command(dir.path());
    serve.args(["serve"]);
    let server = Server::start(serve, &dir.path().join("serve.log"));
    assert!(
        server.base.starts_with("http://127.0.0.5:"),
        "{}",
        server.base
    );
    // The default data directory follows XDG_DATA_HOME.
    assert!(dir.path().join("data/mcp-authz/mcp-authz.sqlite3").exists());
}

#[test]
fn an_unknown_key_is_a_one_line_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "bind = \"127.0.0.1:0\"\n# comment\nlisten = \"x\"\n",
    )
    .unwrap();
    let mut serve = command(dir.path());
    serve.arg("serve").arg("--config").arg(&config);
    let (ok, out, err) = run(serve, "");
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "mcp-authz: invalid configuration file {}, line 3: ",
            config.display()
        )),
        "{err}"
    );
    assert!(err.contains("listen"), "{err}");
    // Nothing was created.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn a_corrupt_or_missing_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corrupt.toml");
    std::fs::write(&config, "dev = true\nbind = [\n").unwrap();
    let mut serve = command(dir.path());
    serve.arg("serve").arg("--config").arg(&config);
    let (ok, _, err) = run(serve, "");
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("invalid configuration file"), "{err}");
    assert!(err.contains("corrupt.toml, line "), "{err}");

    let mut missing = command(dir.path());
    missing
        .arg("serve")
        .arg("--config")
        .arg(dir.path().join("nope.toml"));
    let (ok, _, err) = run(missing, "");
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read the configuration file"), "{err}");
}

#[test]
fn dev_from_the_environment_is_still_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = command(dir.path());
    serve
        .args(["serve", "--bind", "0.0.0.0:0"])
        .env("MCP_AUTHZ_DEV", "yes");
    let (ok, _, err) = run(serve, "");
    assert!(!ok);
    assert_eq!(
        err,
        "mcp-authz: --dev is only allowed on a loopback address, not 0.0.0.0:0\n"
    );
}

#[test]
fn serve_help_documents_the_precedence_and_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    let mut help = command(dir.path());
    help.args(["serve", "--help"]);
    let (ok, out, _) = run(help, "");
    assert!(ok);
    assert!(out.contains("in this order of precedence"), "{out}");
    for variable in [
        "MCP_AUTHZ_BIND",
        "MCP_AUTHZ_CONFIG",
        "MCP_AUTHZ_TLS_CERT",
        "MCP_AUTHZ_LOG_LEVEL",
        "MCP_AUTHZ_SIGNING_ALG",
    ] {
        assert!(out.contains(variable), "{variable} missing: {out}");
    }
}

/// The key types in the JWKS of a running `serve` (its first key is created on the first request).
async fn jwks_key_types(base: &str) -> Vec<String> {
    let jwks: serde_json::Value = reqwest::get(format!("{base}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_alg_comes_from_the_file_the_environment_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        "bind = \"127.0.0.1:0\"\ndata_dir = \"file-state\"\nsigning_alg = \"eddsa\"\n",
    )
    .unwrap();
    let log = dir.path().join("serve.log");

    // The file's eddsa: the first key is an Ed25519 (OKP) key.
    let mut file_only = command(dir.path());
    file_only.arg("serve").arg("--config").arg(&config);
    let server = Server::start(file_only, &log);
    assert_eq!(jwks_key_types(&server.base).await, ["OKP"]);
    drop(server);

    // The flag beats the variable, which beats the file (fresh data directories: existing keys keep
    // their algorithm).
    let mut flag = command(dir.path());
    flag.args(["serve", "--signing-alg", "es256", "--data-dir"])
        .arg(dir.path().join("flag-state"))
        .arg("--config")
        .arg(&config)
        .env("MCP_AUTHZ_SIGNING_ALG", "eddsa");
    let server = Server::start(flag, &log);
    assert_eq!(jwks_key_types(&server.base).await, ["EC"]);
    drop(server);

    let mut env = command(dir.path());
    env.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("env-state"))
        .env("MCP_AUTHZ_SIGNING_ALG", "eddsa");
    let server = Server::start(env, &log);
    assert_eq!(jwks_key_types(&server.base).await, ["OKP"]);
    drop(server);

    // An unknown algorithm is refused in one line.
    let mut bad = command(dir.path());
    bad.args(["serve", "--signing-alg", "hs256", "--data-dir"])
        .arg(dir.path().join("bad-state"));
    let (ok, _, err) = run(bad, "");
    assert!(!ok);
    assert!(err.contains("hs256"), "{err}");
}

/// The connection limits come from flags, variables and the file like every setting; zero (which
/// would cut off every client) or an absurd value is a one-line error naming the setting.
#[test]
fn out_of_range_connection_limits_are_refused_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("limits.toml");
    std::fs::write(&config, "max_connections = 0\n").unwrap();
    let mut file = command(dir.path());
    file.args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config);
    let (ok, _, err) = run(file, "");
    assert!(!ok);
    assert_eq!(
        err,
        "mcp-authz: invalid --max-connections: must be between 1 and 1000000\n"
    );

    let mut env = command(dir.path());
    env.args(["serve", "--bind", "127.0.0.1:0"])
        .env("MCP_AUTHZ_BODY_TIMEOUT", "0");
    let (ok, _, err) = run(env, "");
    assert!(!ok);
    assert_eq!(
        err,
        "mcp-authz: invalid --body-timeout: must be between 1 and 86400 seconds\n"
    );

    for (flag, value) in [
        ("--header-timeout", "0"),
        ("--shutdown-timeout", "0"),
        ("--header-timeout", "18446744073709551615"),
    ] {
        let mut serve = command(dir.path());
        serve.args(["serve", "--bind", "127.0.0.1:0", flag, value]);
        let (ok, _, err) = run(serve, "");
        assert!(!ok);
        assert_eq!(
            err,
            format!("mcp-authz: invalid {flag}: must be between 1 and 86400 seconds\n")
        );
    }
    let mut huge = command(dir.path());
    huge.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--max-connections",
        "18446744073709551615",
    ]);
    let (ok, _, err) = run(huge, "");
    assert!(!ok);
    assert_eq!(
        err,
        "mcp-authz: invalid --max-connections: must be between 1 and 1000000\n"
    );
}

/// A rate limit an operator mistyped is refused in one line naming the setting, from the flag, the
/// variable and the file alike.
#[test]
fn malformed_rate_limits_are_refused_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let expected = |flag: &str, value: &str| {
        format!(
            "mcp-authz: invalid {flag}: expected N/s or N/min, optionally with :BURST (e.g. 50/s:100), or off; got {value:?}\n"
        )
    };

    let mut flag = command(dir.path());
    flag.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--token-rate-limit",
        "50 per second",
    ]);
    let (ok, _, err) = run(flag, "");
    assert!(!ok);
    assert_eq!(err, expected("--token-rate-limit", "50 per second"));

    let mut env = command(dir.path());
    env.args(["serve", "--bind", "127.0.0.1:0"])
        .env("MCP_AUTHZ_AUTHORIZE_RATE_LIMIT", "20/h");
    let (ok, _, err) = run(env, "");
    assert!(!ok);
    assert_eq!(err, expected("--authorize-rate-limit", "20/h"));

    let config = dir.path().join("limits.toml");
    std::fs::write(&config, "register_rate_limit = \"0/s\"\n").unwrap();
    let mut file = command(dir.path());
    file.args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config);
    let (ok, _, err) = run(file, "");
    assert!(!ok);
    assert_eq!(
        err,
        "mcp-authz: invalid --register-rate-limit: rates and bursts must be between 1 and 1000000 (off for no limit); got 0\n"
    );
}
