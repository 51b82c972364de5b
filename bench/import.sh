#!/usr/bin/env bash
# Import benchmark: a generated 1,000,000-person CSV through `baomi import
# persons` (all-or-nothing, encrypted national ids, blind index, one audit
# event), and as the reference in the same run SQLite's own `.import` of the
# same file into a bare table with no index, no validation and no crypto.
# Targets: >= 100,000 rows/s, peak RSS <= 300 MB.
set -euo pipefail
BUILD=${BUILD:-build}
N=${N:-1000000}
baomi=$BUILD/baomi
run=$BUILD/bench_run
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export BAOMI_DB=$dir/bench.db
"$baomi" init >/dev/null
"$baomi" unit add HQ --name "总部" >/dev/null
for u in 0 1 2 3 4 5 6 7 8 9; do "$baomi" unit add "U$u" --name "Unit $u" --parent HQ >/dev/null; done
awk -v n="$N" 'BEGIN { print "id,name,unit,national_id";
	split("王 李 张 刘 陈 杨 Smith Garcia", s, " ");
	for (i = 0; i < n; i++)
		printf "E%07d,%s 伟%d,U%d,1101011990%08d\n", i, s[i % 8 + 1], i, i % 10, i }' >"$dir/persons.csv"
"$run" import_1m_persons "$N" "$baomi" import persons "$dir/persons.csv"
"$run" ref_sqlite3_dot_import "$N" sqlite3 "$dir/ref.db" ".mode csv" ".import $dir/persons.csv persons"
