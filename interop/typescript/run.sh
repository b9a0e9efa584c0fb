#!/usr/bin/env bash
# Interoperability with the official TypeScript MCP SDK (@modelcontextprotocol/sdk 1.x and the v2 client
# @modelcontextprotocol/client, pinned in package.json / package-lock.json), both directions, on loopback:
#
# 1. Each SDK generation's client (sdk-client.mjs) against `mcp-authz serve --dev`: dynamic registration, then a
#    Client ID Metadata Document served by the script on https://127.0.0.1 (the server runs with
#    --dangerous-allow-loopback-cimd and trusts the script's throwaway certificate); each run does
#    discovery, authorization, token exchange, tool calls, refresh, step-up and revocation.
# 2. Our client (examples/interop-client) against the SDK's example server
#    `simpleStreamableHttp.js --oauth`, then `--oauth-strict` (tokens must be bound to the resource),
#    then step-up against sdk-stepup-server.mjs (the SDK's requireBearerAuth with per-tool scopes: the
#    example never answers 403 insufficient_scope).
#
#   interop/typescript/run.sh
#
# Needs `npm ci` in interop/typescript (Node 22 comes from node_modules/.bin/node) and openssl (the
# throwaway certificate). A failing step prints its HTTP transcript (tokens redacted) and the peer's
# log. Prints one closing line `interop: N passed, N failed` and exits non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the current directory, as cargo reads it).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
node="$here/node_modules/.bin/node"
sdk="$here/node_modules/@modelcontextprotocol/sdk"
example="$sdk/dist/esm/examples/server/simpleStreamableHttp.js"
out="$target_dir/interop-typescript"
step_timeout=90

fail() {
  echo "$1" >&2
  echo "interop: 0 passed, 1 failed"
  exit 1
}

[[ -x "$node" && -f "$example" ]] ||
  fail "TypeScript SDK not installed: run (cd interop/typescript && npm ci)"
command -v openssl >/dev/null || fail "openssl is needed for the metadata document's certificate"
echo "TypeScript SDK $("$node" -p "require('$sdk/package.json').version") under Node $("$node" --version)"

cargo build --quiet -p mcp-authz -p interop-client --manifest-path "$root/Cargo.toml" ||
  fail "cargo build -p mcp-authz -p interop-client failed"
mcp_authz="$target_dir/debug/mcp-authz"
interop_client="$target_dir/debug/interop-client"

rm -rf "$out"
mkdir -p "$out"
# The interop matrix of docs/conformance.md (rewritten by `cargo xtask interop`, xtask/src/matrix.rs).
matrix_file="$target_dir/interop-matrix/typescript.tsv"
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
# Runs one step with a time limit; its output goes to the terminal and to $out/<name>.log.
step() {
  local name="$1" log="$out/$1.log"; shift
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
  for _ in $(seq 1 200); do
    line=$(grep -m1 -E "$pattern" "$file" 2>/dev/null) && { echo "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

free_port() {
  "$node" -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# ---- 1. The SDK's client against mcp-authz serve -------------------------------------------------
echo "1. TypeScript SDK clients (v1, v2) -> mcp-authz serve --dev"
# A throwaway certificate for the metadata document server on 127.0.0.1 (not a CA: used as is).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$out/cimd.key" -out "$out/cimd.pem" -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
  >"$out/openssl.log" 2>&1 || fail "openssl could not make the certificate: $(cat "$out/openssl.log")"

# Isolated from the user's configuration, data and MCP_AUTHZ_* variables.
env -u MCP_AUTHZ_CONFIG -u MCP_AUTHZ_DATA_DIR -u MCP_AUTHZ_STORE -u MCP_AUTHZ_ISSUER \
  -u MCP_AUTHZ_BIND -u MCP_AUTHZ_RESOURCES -u MCP_AUTHZ_AUTHORIZATION_SERVER \
  -u MCP_AUTHZ_TLS_CERT -u MCP_AUTHZ_TLS_KEY -u MCP_AUTHZ_ACCESS_TOKEN_TTL \
  XDG_CONFIG_HOME="$out/config" \
  "$mcp_authz" serve --bind 127.0.0.1:0 --data-dir "$out/serve-data" --dev \
  --dangerous-allow-loopback-cimd "$out/cimd.pem" --log-level debug \
  >"$out/serve.out" 2>"$out/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
if listening=$(wait_for_line "$out/serve.out" '^listening on http://' "$serve_pid"); then
  server_url="${listening#listening on }/mcp"
  echo "mcp-authz serve: $server_url"
  for generation in v1 v2; do
    cell="passes"
    for registration in dcr cimd; do
      step "sdk-client-$generation-$registration" "$node" "$here/sdk-client.mjs" --sdk "$generation" \
        --server "$server_url" --registration "$registration" \
        --cimd-cert "$out/cimd.pem" --cimd-key "$out/cimd.key" ||
        { cell="FAILS ($registration)"; echo "---- mcp-authz serve log (last 40 lines) ----"; tail -n 40 "$out/serve.err"; }
    done
    if [[ $generation == v1 ]]; then
      report row ts-v1 "TypeScript SDK v1 client $("$node" -p "require('$sdk/package.json').version") (\`@modelcontextprotocol/sdk\`)"
      [[ $cell == passes ]] && cell="passes (DCR and CIMD), step-up after the SDK's known refresh dead end ([typescript-sdk#2255](https://github.com/modelcontextprotocol/typescript-sdk/issues/2255))"
    else
      report row ts-v2 "TypeScript SDK v2 client $("$node" -p "require('$here/node_modules/@modelcontextprotocol/client/package.json').version") (\`@modelcontextprotocol/client\`)"
      [[ $cell == passes ]] && cell="passes (DCR and CIMD), step-up by the SDK alone"
    fi
    report cell "ts-$generation" serve "$cell"
  done
else
  failed=$((failed + 1))
  echo "  ✗ mcp-authz serve did not start:"; cat "$out/serve.err"
fi
kill "$serve_pid" 2>/dev/null

# ---- 2. Our client against the SDK's example OAuth server ---------------------------------------
echo "2. mcp-authz-client -> TypeScript SDK example server (simpleStreamableHttp.js), SDK step-up server"
ours_typescript="passes (example server, \`--oauth-strict\`), step-up included"
for mode in oauth oauth-strict step-up; do
  server=("$example" --oauth) check=greet
  [[ $mode == oauth-strict ]] && server+=(--oauth-strict)
  [[ $mode == step-up ]] && server=("$here/sdk-stepup-server.mjs") check=step-up
  mcp_port=$(free_port) && auth_port=$(free_port) || fail "could not find free ports"
  [[ $mcp_port != "$auth_port" ]] || auth_port=$(free_port) || fail "could not find a free port"
  # The example uses `localhost` URLs and listens on every interface (it has no host option).
  MCP_PORT="$mcp_port" MCP_AUTH_PORT="$auth_port" "$node" "${server[@]}" \
    >"$out/example-$mode.log" 2>&1 &
  example_pid=$!
  pids+=("$example_pid")
  if wait_for_line "$out/example-$mode.log" 'MCP (Streamable HTTP|step-up) [Ss]erver listening' "$example_pid" >/dev/null &&
     wait_for_line "$out/example-$mode.log" 'Authorization Server listening' "$example_pid" >/dev/null; then
    step "interop-client-$mode" "$interop_client" "http://localhost:$mcp_port/mcp" "$mode" "$check" ||
      { ours_typescript="FAILS ($mode)"; echo "---- example server log (last 40 lines) ----"; tail -n 40 "$out/example-$mode.log"; }
  else
    failed=$((failed + 1))
    ours_typescript="FAILS ($mode: the server did not start)"
    echo "  ✗ the SDK example server ($mode) did not start:"; cat "$out/example-$mode.log"
  fi
  kill "$example_pid" 2>/dev/null
done

report cell ours typescript "$ours_typescript"
echo "interop: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
