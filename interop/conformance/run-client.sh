#!/usr/bin/env bash
# Runs the MCP conformance suite's client-role auth scenarios against examples/conformance-client.
#
#   interop/conformance/run-client.sh
#   CONFORMANCE_CLIENT=path/to/binary interop/conformance/run-client.sh   # test a prebuilt binary
#
# Needs `npm ci` in interop/conformance (Node 22 comes from node_modules/.bin/node). Builds the client,
# runs the `auth` suite at 2025-11-25 and 2026-07-28, then each 2026-07-28-only auth scenario alone
# and the client-credentials extension scenarios. Every scenario must pass with
# no warning; there is no expected-failures list. Prints one closing line
# `conformance: N passed, N failed` and exits non-zero on any failure or warning.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's target directory: CARGO_TARGET_DIR when set (relative to the current directory, as cargo reads it).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
node="$here/node_modules/.bin/node"
cli="$here/node_modules/.bin/conformance"
out="$target_dir/conformance"

if [[ ! -x "$node" || ! -e "$cli" ]]; then
  echo "conformance suite not installed: run (cd interop/conformance && npm ci)" >&2
  echo "conformance: 0 passed, 1 failed"
  exit 1
fi

# CONFORMANCE_CLIENT=<path> skips the build and tests that binary instead.
client="${CONFORMANCE_CLIENT:-}"
if [[ -z "$client" ]]; then
  cargo build --quiet -p conformance-client --manifest-path "$root/Cargo.toml" || {
    echo "conformance: 0 passed, 1 failed"
    exit 1
  }
  client="$target_dir/debug/conformance-client"
fi
rm -rf "$out"
mkdir -p "$out"

passed=0
failed=0

# A suite run: count the per-scenario summary lines (✓ pass; ✗ or any warning fails).
run_suite() {
  local version="$1" log="$out/suite-$1.log"
  "$node" "$cli" client --command "$client" --suite auth --spec-version "$version" \
    -o "$out/suite-$version" >"$log" 2>&1
  local rc=$?
  local ok bad
  ok=$(grep -E '^✓ ' "$log" | grep -vcE '[1-9][0-9]* warnings?')
  bad=$(grep -E '^(✗ |✓ .*[1-9][0-9]* warnings?)' "$log" | grep -c .)
  if [[ $rc -ne 0 && $bad -eq 0 ]]; then bad=1; fi
  if [[ $((ok + bad)) -eq 0 ]]; then bad=1; fi
  passed=$((passed + ok)); failed=$((failed + bad))
  echo "suite auth @ $version: $ok passed, $bad failed (exit $rc)"
  grep -E '^(✓|✗) ' "$log" | sed 's/^/  /'
}

# A single scenario: passes only on exit 0 with "OVERALL: PASSED" and no warnings.
run_scenario() {
  local scenario="$1"; shift
  local log="$out/${scenario//\//_}.log"
  "$node" "$cli" client --command "$client" --scenario "$scenario" "$@" \
    -o "$out/single" >"$log" 2>&1
  local rc=$?
  if [[ $rc -eq 0 ]] && grep -q 'OVERALL: PASSED' "$log" && ! grep -qE '[1-9][0-9]* warnings?' "$log"; then
    passed=$((passed + 1)); echo "  ✓ $scenario"
  else
    failed=$((failed + 1)); echo "  ✗ $scenario (exit $rc, see $log)"
  fi
}

run_suite 2025-11-25
run_suite 2026-07-28

echo "2026-07-28-only auth scenarios:"
for s in resource-mismatch offline-access-scope offline-access-not-supported authorization-server-migration \
         iss-supported iss-not-advertised iss-supported-missing iss-wrong-issuer iss-unexpected iss-normalized \
         metadata-issuer-mismatch; do
  run_scenario "auth/$s"
done

# Extension scenarios (never "applicable" to a dated version: run without --spec-version).
echo "extension scenarios:"
for s in client-credentials-basic client-credentials-jwt; do
  run_scenario "auth/$s"
done

echo "conformance: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
