#!/usr/bin/env bash
# decide.sh - baomi's decision snapshot against two reference engines
# (casbin, Cedar) on the same synthetic data, measured in the same run.
#
# Builds nothing: needs build/bench_decide (ninja -C build) and
# bench/ref/node_modules (npm ci in bench/ref; installed here if missing).
# Prints bench_decide's and the engines' JSON lines, then one ratio line
# per data set:
#   {"bench":"decide_vs_ref","persons":N,"baomi_per_s":..,"baomi_many_per_s":..,
#    "casbin_per_s":..,"cedar_per_s":..,"ratio_vs_faster":..,"ratio_many_vs_faster":..}
# ratio_vs_faster uses the single-call API; ratio_many_vs_faster the batch API.
# bench_decide's own "decide_targets" line compares 1M with 1k persons (the
# two measured in alternating rounds) against the issue's targets; the load
# average before and after is printed as {"bench":"loadavg",...}, since the
# figures mean little without it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=${OUT:-$root/bench/out}
bin=$build/bench_decide
[ -x "$bin" ] || { echo "decide.sh: $bin missing; run: ninja -C build" >&2; exit 1; }
mkdir -p "$out"
if [ ! -d "$root/bench/ref/node_modules" ]; then
	(cd "$root/bench/ref" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$bin" --out "$out" | tee "$out/baomi.jsonl"
for n in 1000000 1000; do
	node "$root/bench/ref/decide_ref.mjs" "$out/decide_$n.txt" | tee "$out/ref_$n.jsonl"
	jq -c -n --argjson n "$n" \
		--slurpfile b "$out/baomi.jsonl" --slurpfile r "$out/ref_$n.jsonl" '
		def rate($xs; f): ($xs | map(select(f)) | .[0].decisions_per_s);
		rate($b; .bench == "decide" and .persons == $n) as $one |
		rate($b; .bench == "decide_many" and .persons == $n) as $many |
		rate($r; .engine == "casbin") as $casbin |
		rate($r; .engine == "cedar") as $cedar |
		([$casbin, $cedar] | max) as $fast |
		{bench: "decide_vs_ref", persons: $n, baomi_per_s: $one, baomi_many_per_s: $many,
		 casbin_per_s: $casbin, cedar_per_s: $cedar,
		 js_plain_per_s: rate($r; .engine == "js_plain"),
		 ratio_vs_faster: (($one / $fast) * 10 | round / 10),
		 ratio_many_vs_faster: (($many / $fast) * 10 | round / 10)}'
done
jq -c -n --arg b "$load_before" --arg a "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{bench: "loadavg", before: $b, after: $a}'
