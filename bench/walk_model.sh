#!/usr/bin/env bash
# walk_model.sh - why the batch decision rate at 1M persons stays under the
# 1k rate on a machine whose TLB does not cover the snapshot, as numbers.
#
# Model: at 1k persons the batch pipeline runs at I / IPC cycles a
# decision (I instructions, IPC instructions a cycle).  At 1M, each
# decision's slot prefetch waits on a page walk of W cycles, and an
# instruction cannot retire before it; the reorder buffer (ROB entries,
# 320 on AMD Zen 4; set ROB= for another core) holds ROB / I decisions,
# so a decision takes at least W * I / ROB cycles.  The ratio 1M/1k is
# then ROB / (IPC * W), whatever I is: code that retires more
# instructions a cycle shows more of the walk.
#
# Measured here, on the same machine in one run:
#   I      instructions per query, counted by valgrind (callgrind) on the
#          1k set: build/bench_decide --count decide|none|serial|wide;
#   times  build/bench_decide's decide_many lines (real decisions) and
#          pipeline_reference lines (the same memory pattern with
#          filler work), and its clock_reference line (GHz);
#   W      each workload's walk cycles implied by its 1M time,
#          large_ns * GHz * ROB / I (meaningful where the buffer bound
#          holds: "wide" and the real decisions).
# Prints one line per workload and a prediction line:
#   {"bench":"walk_model","workload":..,"instructions":..,"small_ns":..,
#    "large_ns":..,"ipc_small":..,"walk_cycles":..,"ratio":..}
#   {"bench":"walk_model_prediction","rob":..,"walk_cycles_wide":..,
#    "predicted_ratio":..,"measured_ratio":..,"max_ipc_for_0_9":..}
# predicted_ratio uses W from the wide filler and the real decisions' IPC.
#
# Needs valgrind (scripts/bootstrap installs it) and build/bench_decide.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=${OUT:-$root/bench/out}
rob=${ROB:-320}
bin=$build/bench_decide
[ -x "$bin" ] || { echo "walk_model.sh: $bin missing; run: ninja -C build" >&2; exit 1; }
command -v valgrind >/dev/null ||
	{ echo "walk_model.sh: valgrind missing; run: scripts/bootstrap" >&2; exit 1; }
mkdir -p "$out"
counts=$out/walk_counts.jsonl
: >"$counts"
for w in decide none serial wide; do
	fn='pref_pass*'
	[ "$w" = decide ] && fn=snapshot_decide_many
	log=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "--toggle-collect=$fn" \
		"$bin" --count "$w" 2>&1)
	ins=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' <<<"$log")
	q=$(grep -o '"queries":[0-9]*' <<<"$log" | cut -d: -f2)
	[ -n "$ins" ] && [ -n "$q" ] || { echo "walk_model.sh: no count for $w" >&2; exit 1; }
	jq -c -n --arg w "$w" --argjson i "$ins" --argjson q "$q" \
		'{workload: $w, instructions: ($i / $q)}' >>"$counts"
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$bin" >"$out/walk_times.jsonl"
jq -c -n --argjson rob "$rob" --slurpfile c "$counts" --slurpfile t "$out/walk_times.jsonl" '
	($t | map(select(.bench == "clock_reference"))[0].ghz) as $ghz |
	def many($n): 1e9 / ($t | map(select(.bench == "decide_many" and .persons == $n))[0].decisions_per_s);
	def pref($f): $t | map(select(.bench == "pipeline_reference" and .filler == $f))[0];
	def r2: . * 100 | round / 100;
	[$c[] | . as $x |
	 (if $x.workload == "decide" then {small: many(1000), large: many(1000000)}
	  else pref($x.workload) | {small: .small_ns, large: .large_ns} end) as $ns |
	 {bench: "walk_model", workload: (if $x.workload == "decide" then "decide_many" else $x.workload end),
	  instructions: ($x.instructions | r2), small_ns: ($ns.small | r2), large_ns: ($ns.large | r2),
	  ipc_small: ($x.instructions / ($ns.small * $ghz) | r2),
	  walk_cycles: ($ns.large * $ghz * $rob / $x.instructions | r2),
	  ratio: ($ns.small / $ns.large * 1000 | round / 1000)}] as $rows |
	($rows[] ),
	(($rows | map(select(.workload == "wide"))[0]) as $w |
	 ($rows | map(select(.workload == "decide_many"))[0]) as $d |
	 {bench: "walk_model_prediction", rob: $rob, ghz: $ghz, walk_cycles_wide: $w.walk_cycles,
	  predicted_ratio: ([1, $rob / ($d.ipc_small * $w.walk_cycles)] | min * 1000 | round / 1000),
	  measured_ratio: $d.ratio, max_ipc_for_0_9: ($rob / (0.9 * $w.walk_cycles) | r2)})'
jq -c -n --arg b "$load_before" --arg a "$(cut -d' ' -f1-3 /proc/loadavg)" \
	'{bench: "loadavg", before: $b, after: $a}'
