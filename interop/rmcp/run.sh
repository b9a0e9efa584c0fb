#!/usr/bin/env bash
# Interoperability with rmcp's own OAuth client (crate `rmcp` 3.x, feature `auth`, the version in
# Cargo.lock): examples/rmcp-oauth-client against `mcp-authz serve --dev` with a short access-token
# lifetime: discovery, dynamic registration, authorization, tool calls, refresh, step-up, revocation.
#
#   interop/rmcp/run.sh
#
# Prints one closing line `interop (rmcp): N passed, N failed`; exits non-zero on failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the current directory, as cargo reads it).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
out="$target_dir/interop-rmcp"
ttl=2
step_timeout=120

fail() {
  echo "$1" >&2
  echo "interop (rmcp): 0 passed, 1 failed"
  exit 1
}

cargo build --quiet -p mcp-authz -p rmcp-oauth-client --manifest-path "$root/Cargo.toml" ||
  fail "cargo build -p mcp-authz -p rmcp-oauth-client failed"
version="$(cargo pkgid --quiet --manifest-path "$root/Cargo.toml" rmcp 2>/dev/null | sed 's/.*[@#]//')"
echo "rmcp $version"

rm -rf "$out"
mkdir -p "$out"
# The interop matrix of docs/conformance.md (rewritten by `cargo xtask interop`, xtask/src/matrix.rs).
matrix_file="$target_dir/interop-matrix/rmcp.tsv"
mkdir -p "$(dirname "$matrix_file")"
: >"$matrix_file"
report() { local IFS=$'\t'; echo "$*" >>"$matrix_file"; }
report row rmcp "rmcp OAuth client $version (\`rmcp\`, feature \`auth\`)"
serve_pid=""
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

# Isolated from the user's configuration, data and MCP_AUTHZ_* variables.
env -u MCP_AUTHZ_CONFIG -u MCP_AUTHZ_DATA_DIR -u MCP_AUTHZ_STORE -u MCP_AUTHZ_ISSUER \
  -u MCP_AUTHZ_BIND -u MCP_AUTHZ_RESOURCES -u MCP_AUTHZ_AUTHORIZATION_SERVER \
  -u MCP_AUTHZ_TLS_CERT -u MCP_AUTHZ_TLS_KEY -u MCP_AUTHZ_ACCESS_TOKEN_TTL \
  XDG_CONFIG_HOME="$out/config" \
  "$target_dir/debug/mcp-authz" serve --bind 127.0.0.1:0 --data-dir "$out/serve-data" --dev \
  --access-token-ttl "$ttl" --log-level debug \
  >"$out/serve.out" 2>"$out/serve.err" &
serve_pid=$!

listening=""
for _ in $(seq 1 300); do
  listening=$(grep -m1 -E '^listening on http://' "$out/serve.out" 2>/dev/null) && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$listening" ]] || fail "mcp-authz serve did not start: $(cat "$out/serve.err")"
server_url="${listening#listening on }/mcp"
echo "1. rmcp OAuth client -> mcp-authz serve --dev ($server_url)"

if timeout "$step_timeout" "$target_dir/debug/rmcp-oauth-client" "$server_url" "$ttl"; then
  report cell rmcp serve "passes, step-up (through \`request_scope_upgrade\`) included"
  echo "interop (rmcp): 1 passed, 0 failed"
else
  report cell rmcp serve "FAILS"
  echo "---- mcp-authz serve log (last 40 lines) ----"
  tail -n 40 "$out/serve.err"
  echo "interop (rmcp): 0 passed, 1 failed"
  exit 1
fi
