#!/usr/bin/env bash
# Interoperability with the official Python MCP SDK (PyPI `mcp`, pinned with every dependency in
# requirements.txt), both directions, on loopback:
#
# 1. The SDK's client (sdk_client.py) against `mcp-authz serve --dev`, with a short access-token lifetime
#    so that the SDK refreshes: discovery, dynamic registration, authorization, tool calls, refresh,
#    step-up and revocation.
# 2. Our client (examples/interop-client) against an MCP server made of the SDK's pieces
#    (sdk_stepup_server.py: `MCPServer` + `AuthSettings` + a JWT `TokenVerifier`, per-tool scopes with
#    the SDK's `RequireAuthMiddleware`), with `mcp-authz serve --dev` as its authorization server. Two
#    SDK behaviours are asserted as they ship, each with its upstream issue (docs/conformance.md): with a
#    root issuer the SDK's metadata adds a `/` (python-sdk#1919), so the run uses an issuer that ends in
#    `/`, after checking that discovery refuses the other; its 403 names no `scope` (python-sdk#3103).
#
#   interop/python/run.sh
#
# Installs the pinned packages into a virtual environment under Cargo's target directory
# (interop-python/venv), reused while requirements.txt is unchanged. Needs python3 with venv and pip, and
# PyPI. Prints one closing line `interop (Python SDK): N passed, N failed`; exits non-zero on failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the current directory, as cargo reads it).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
out="$target_dir/interop-python"
venv="$out/venv"
ttl=2
step_timeout=120

fail() {
  echo "$1" >&2
  echo "interop (Python SDK): 0 passed, 1 failed"
  exit 1
}

command -v python3 >/dev/null || fail "python3 is needed for the Python SDK interop check"
stamp="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]]; then
  rm -rf "$venv"
  mkdir -p "$out"
  python3 -m venv "$venv" >"$out/venv.log" 2>&1 || fail "python3 -m venv failed: $(cat "$out/venv.log")"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt" \
    >>"$out/venv.log" 2>&1 || fail "pip install -r interop/python/requirements.txt failed: $(tail -n 20 "$out/venv.log")"
  echo "$stamp" >"$venv/.requirements"
fi
python="$venv/bin/python"
sdk_version="$("$python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"
echo "Python SDK $sdk_version under $("$python" --version)"

cargo build --quiet -p mcp-authz -p interop-client --manifest-path "$root/Cargo.toml" ||
  fail "cargo build -p mcp-authz -p interop-client failed"
mcp_authz="$target_dir/debug/mcp-authz"
interop_client="$target_dir/debug/interop-client"

rm -rf "$out/run"
mkdir -p "$out/run"
# The interop matrix of docs/conformance.md (rewritten by `cargo xtask interop`, xtask/src/matrix.rs).
matrix_file="$target_dir/interop-matrix/python.tsv"
mkdir -p "$(dirname "$matrix_file")"
: >"$matrix_file"
report() { local IFS=$'\t'; echo "$*" >>"$matrix_file"; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

passed=0
failed=0
# Runs one step with a time limit; its output goes to the terminal and to $out/run/<name>.log.
step() {
  local name="$1" log="$out/run/$1.log"; shift
  timeout "$step_timeout" "$@" >"$log" 2>&1
  local rc=$?
  cat "$log"
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    [[ $rc -eq 124 ]] && echo "  ✗ $name: timed out after ${step_timeout}s"
    echo "  ✗ $name (exit $rc, log $log)"
    return 1
  fi
}

# Waits until the file has a line matching the pattern (or the process died); prints the line.
wait_for_line() {
  local file="$1" pattern="$2" pid="$3" line=""
  for _ in $(seq 1 300); do
    line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null) && { echo "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `mcp-authz serve --dev` (isolated from the user's configuration, data and MCP_AUTHZ_*
# variables) with the extra arguments; sets serve_pid and serve_url, or returns 1.
start_serve() {
  local name="$1"; shift
  env -u MCP_AUTHZ_CONFIG -u MCP_AUTHZ_DATA_DIR -u MCP_AUTHZ_STORE -u MCP_AUTHZ_ISSUER \
    -u MCP_AUTHZ_BIND -u MCP_AUTHZ_RESOURCES -u MCP_AUTHZ_AUTHORIZATION_SERVER \
    -u MCP_AUTHZ_TLS_CERT -u MCP_AUTHZ_TLS_KEY -u MCP_AUTHZ_ACCESS_TOKEN_TTL \
    XDG_CONFIG_HOME="$out/run/$name-config" \
    "$mcp_authz" serve --data-dir "$out/run/$name-data" --dev --log-level debug "$@" \
    >"$out/run/$name.out" 2>"$out/run/$name.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  local listening
  listening=$(wait_for_line "$out/run/$name.out" '^listening on http://' "$serve_pid") ||
    { echo "  ✗ mcp-authz serve ($name) did not start:"; cat "$out/run/$name.err"; return 1; }
  serve_url="${listening#listening on }"
}

# ---- 1. The SDK's client against mcp-authz serve -------------------------------------------------
report row python "Python SDK client $sdk_version (PyPI \`mcp\`)"
echo "1. Python SDK client -> mcp-authz serve --dev"
if start_serve serve --bind 127.0.0.1:0 --access-token-ttl "$ttl"; then
  if step sdk-client "$python" "$here/sdk_client.py" --server "$serve_url/mcp" --access-token-ttl "$ttl"; then
    report cell python serve "passes, step-up included"
  else
    report cell python serve "FAILS"
    echo "---- mcp-authz serve log (last 40 lines) ----"; tail -n 40 "$out/run/serve.err"
  fi
  kill "$serve_pid" 2>/dev/null
else
  failed=$((failed + 1))
fi

# ---- 2. Our client against the SDK's server -------------------------------------------------------
echo "2. mcp-authz-client -> Python SDK server (sdk_stepup_server.py), authorization server mcp-authz serve --dev"
ours_python="passes up to step-up, which the SDK server makes impossible ([python-sdk#3103](https://github.com/modelcontextprotocol/python-sdk/issues/3103); root issuers: [#1919](https://github.com/modelcontextprotocol/python-sdk/issues/1919))"
for check in issuer-mismatch step-up-without-scope; do
  as_port=$(free_port) && py_port=$(free_port) || fail "could not find free ports"
  issuer="http://127.0.0.1:$as_port"
  # python-sdk#1919: the SDK's metadata names a root issuer with a trailing `/`; an issuer that has
  # it is represented faithfully.
  [[ $check == step-up-without-scope ]] && issuer="$issuer/"
  if ! start_serve "as-$check" --bind "127.0.0.1:$as_port" --issuer "$issuer" \
    --resource "http://127.0.0.1:$py_port/mcp=mcp:tools,notes:write"; then
    failed=$((failed + 1))
    continue
  fi
  "$python" "$here/sdk_stepup_server.py" --port "$py_port" --issuer "$issuer" \
    >"$out/run/server-$check.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  if wait_for_line "$out/run/server-$check.log" 'MCP step-up server listening' "$server_pid" >/dev/null; then
    step "interop-client-$check" "$interop_client" "http://127.0.0.1:$py_port/mcp" "python, $check" "$check" ||
      { ours_python="FAILS ($check)"; echo "---- Python SDK server log (last 40 lines) ----"; tail -n 40 "$out/run/server-$check.log"; }
  else
    failed=$((failed + 1))
    ours_python="FAILS ($check: the server did not start)"
    echo "  ✗ the Python SDK server ($check) did not start:"; cat "$out/run/server-$check.log"
  fi
  kill "$server_pid" "$serve_pid" 2>/dev/null
done

report cell ours python "$ours_python"
echo "interop (Python SDK): $passed passed, $failed failed"
[[ $failed -eq 0 ]]
