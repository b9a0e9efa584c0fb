#!/usr/bin/env bash
# Interoperability with the official Python MCP SDK (PyPI `mcp`, pinned with every dependency in
# requirements.txt): the SDK's client (sdk_client.py) against `mcp-authz serve --dev`, with a short access
# token lifetime so that the SDK refreshes; discovery, dynamic registration, authorization, tool calls,
# refresh, step-up and revocation.
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
echo "Python SDK $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))') under $("$venv/bin/python" --version)"

cargo build --quiet -p mcp-authz --manifest-path "$root/Cargo.toml" || fail "cargo build -p mcp-authz failed"
mcp_authz="$target_dir/debug/mcp-authz"

rm -rf "$out/serve-data" "$out/config"
serve_pid=""
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

# Isolated from the user's configuration, data and MCP_AUTHZ_* variables.
env -u MCP_AUTHZ_CONFIG -u MCP_AUTHZ_DATA_DIR -u MCP_AUTHZ_STORE -u MCP_AUTHZ_ISSUER \
  -u MCP_AUTHZ_BIND -u MCP_AUTHZ_RESOURCES -u MCP_AUTHZ_AUTHORIZATION_SERVER \
  -u MCP_AUTHZ_TLS_CERT -u MCP_AUTHZ_TLS_KEY -u MCP_AUTHZ_ACCESS_TOKEN_TTL \
  XDG_CONFIG_HOME="$out/config" \
  "$mcp_authz" serve --bind 127.0.0.1:0 --data-dir "$out/serve-data" --dev \
  --access-token-ttl "$ttl" --log-level debug \
  >"$out/serve.out" 2>"$out/serve.err" &
serve_pid=$!

listening=""
for _ in $(seq 1 200); do
  listening=$(grep -m1 -E '^listening on http://' "$out/serve.out" 2>/dev/null) && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$listening" ]] || fail "mcp-authz serve did not start: $(cat "$out/serve.err")"
server_url="${listening#listening on }/mcp"
echo "1. Python SDK client -> mcp-authz serve --dev ($server_url)"

if timeout "$step_timeout" "$venv/bin/python" "$here/sdk_client.py" --server "$server_url" \
  --access-token-ttl "$ttl"; then
  echo "interop (Python SDK): 1 passed, 0 failed"
else
  echo "---- mcp-authz serve log (last 40 lines) ----"
  tail -n 40 "$out/serve.err"
  echo "interop (Python SDK): 0 passed, 1 failed"
  exit 1
fi
