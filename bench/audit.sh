#!/usr/bin/env bash
# Audit verify benchmark: 1,000,000 events appended through the service's
# audit path, then `baomi audit verify` over all of them.  Reference in the
# same run: the store's bare scan of the same rows (no hashing).
# Target: >= 1,000,000 events/s.
set -euo pipefail
BUILD=${BUILD:-build}
N=${N:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$BUILD/baomi" --db "$dir/a.db" init >/dev/null
"$BUILD/bench_audit" "$dir/a.db" "$N"
"$BUILD/bench_run" audit_verify_cli "$N" "$BUILD/baomi" --db "$dir/a.db" audit verify
