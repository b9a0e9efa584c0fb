#!/usr/bin/env bash
# Runs the MCP conformance suite's authorization-server scenarios (`conformance authorization`:
# authorization-server-metadata-endpoint and authorization-code-grant, together) against
# examples/conformance-server.
#
#   interop/conformance/run-server.sh
#   CONFORMANCE_SERVER=path/to/binary interop/conformance/run-server.sh      # test a prebuilt binary
#   CONFORMANCE_SERVER_MISBEHAVE=wrong-issuer interop/conformance/run-server.sh   # must fail
#
# Needs `npm ci` in interop/conformance (Node 22 comes from node_modules/.bin/node). Starts the server
# on a free loopback port with a pre-registered public client whose redirect URI is the harness's
# callback, runs the harness with --client-id and --resource, reads the authorization URL from the
# harness's standard output and follows it with curl (the server auto-approves, so its redirect lands
# on the harness's callback), then judges the harness: exit 0, every check passed, none failed.
# Warnings are printed; they are accepted only when the harness itself exits 0. Prints one closing
# line `conformance-server: N passed, N failed` and exits non-zero on failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the current directory, as cargo reads it).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
node="$here/node_modules/.bin/node"
cli="$here/node_modules/.bin/conformance"
out="$target_dir/conformance-server"
client_id="conformance-client"

fail() {
  echo "$1" >&2
  echo "conformance-server: 0 passed, 1 failed"
  exit 1
}

[[ -x "$node" && -e "$cli" ]] ||
  fail "conformance suite not installed: run (cd interop/conformance && npm ci)"

# CONFORMANCE_SERVER=<path> skips the build and tests that binary instead.
server="${CONFORMANCE_SERVER:-}"
if [[ -z "$server" ]]; then
  cargo build --quiet -p conformance-server --manifest-path "$root/Cargo.toml" ||
    fail "cargo build -p conformance-server failed"
  server="$target_dir/debug/conformance-server"
fi
rm -rf "$out"
mkdir -p "$out"

server_pid=""
harness_pid=""
cleanup() {
  [[ -n "$harness_pid" ]] && kill "$harness_pid" 2>/dev/null
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT

# A free loopback port for the harness's callback listener.
harness_port=$("$node" -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });') ||
  fail "could not find a free port"
redirect_uri="http://127.0.0.1:$harness_port/callback"

# The server picks its own free port and prints its issuer once it is listening.
"$server" --client-id "$client_id" --redirect-uri "$redirect_uri" \
  >"$out/server.out" 2>"$out/server.err" &
server_pid=$!
issuer=""
for _ in $(seq 1 100); do
  issuer=$(head -n 1 "$out/server.out" 2>/dev/null)
  [[ -n "$issuer" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$issuer" ]] || fail "conformance-server did not start: $(cat "$out/server.err")"
resource="$issuer/mcp"
echo "server: $issuer (client $client_id, redirect $redirect_uri, resource $resource)"

log="$out/harness.log"
(cd "$here" && exec "$node" "$cli" authorization --url "$issuer" --client-id "$client_id" \
  --resource "$resource" --port "$harness_port" -o "$out/results") >"$log" 2>&1 &
harness_pid=$!

# Wait for the authorization URL (the line after the "Access the following URL" prompt).
auth_url=""
for _ in $(seq 1 300); do
  auth_url=$(grep -A1 'Access the following URL' "$log" 2>/dev/null | sed -n 2p | tr -d '[:space:]')
  [[ -n "$auth_url" ]] && break
  kill -0 "$harness_pid" 2>/dev/null || break
  sleep 0.1
done

if [[ -n "$auth_url" ]]; then
  # The callback listener starts just after the URL is printed: retry until the redirect lands.
  for _ in $(seq 1 50); do
    if curl -s -L -o /dev/null --max-time 10 "$auth_url"; then break; fi
    sleep 0.2
  done
else
  echo "harness printed no authorization URL" >&2
fi

# The harness waits up to 5 minutes for its callback; give it 60 seconds.
for _ in $(seq 1 600); do
  kill -0 "$harness_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$harness_pid" 2>/dev/null; then
  echo "harness still waiting after 60 s: killed" >&2
  kill "$harness_pid" 2>/dev/null
fi
wait "$harness_pid"
rc=$?
harness_pid=""

sed 's/^/  /' "$log"

# Judge from the results each scenario saved (checks.json): SUCCESS passes; WARNING passes but is
# printed (accepted only with harness exit 0, below); FAILURE, SKIPPED (nothing was tested) or a
# scenario without results fails.
counts=$("$node" -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  let passed = 0, failed = 0;
  for (const scenario of ["authorization-server-metadata-endpoint", "authorization-code-grant"]) {
    const runs = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((d) => d.startsWith("authorization-server-" + scenario + "-")) : [];
    const file = runs.length === 1 ? path.join(dir, runs[0], "checks.json") : null;
    let checks = [];
    try { checks = JSON.parse(fs.readFileSync(file, "utf8")); } catch { checks = []; }
    if (!Array.isArray(checks) || checks.length === 0) {
      console.error(`  ✗ ${scenario}: no results`); failed++; continue;
    }
    for (const c of checks) {
      const line = `${scenario}/${c.id}: ${c.status}${c.errorMessage ? " — " + c.errorMessage : ""}`;
      if (c.status === "SUCCESS") { passed++; console.error(`  ✓ ${line}`); }
      else if (c.status === "WARNING") { passed++; console.error(`  ⚠ ${line} (warning)`); }
      else { failed++; console.error(`  ✗ ${line}`); }
    }
  }
  console.log(`${passed} ${failed}`);' "$out/results" 2>"$out/judge.log")
cat "$out/judge.log"
read -r passed failed <<<"${counts:-0 1}"
if grep -q '(warning)$' "$out/judge.log" && [[ $rc -ne 0 ]]; then
  echo "warnings above are not accepted: the harness exited $rc"
fi
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
if [[ $passed -eq 0 && $failed -eq 0 ]]; then failed=1; fi
echo "harness exit status: $rc"
echo "conformance-server: $passed passed, $failed failed"
[[ $failed -eq 0 && $rc -eq 0 ]]
