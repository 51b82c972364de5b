#!/bin/sh
# http_api.sh - the HTTP API benchmark (issues 3 and 4), everything built
# and measured in one run against the bare libmicrohttpd reference
# (build/hello_mhd), with wrk on loopback, keep-alive, 50 connections:
#   a. authenticated GET /v1/persons/E1001 (Bearer token of a real login)
#      on a fresh demo database, alternated with hello_mhd for N rounds;
#   b. POST /v1/decisions, one decision per request;
#   c. POST /v1/decisions/batch, 1,000 decisions per request;
#   d. a soak: mixed GETs and decisions for SOAK seconds, sampling the
#      server's VmRSS (growth from after WARM seconds to the end).
# The server's access log (stderr) is redirected to /dev/null.  Prints one
# JSON line per measurement and a summary line.
# Usage: BUILD=build bench/http_api.sh [seconds-per-round] [rounds] [soak-seconds]
set -eu
B=${BUILD:-build}
D=${1:-5}
N=${2:-3}
SOAK=${3:-60}
WARM=5
P_REF=${P_REF:-18191}
P_API=${P_API:-18192}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
ref=""
api=""
cleanup() {
	[ -n "$api" ] && kill "$api" 2>/dev/null
	[ -n "$ref" ] && kill "$ref" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# ---- a fresh demo database and a real session
PW=bench-secadmin-password-0123
printf 'secadmin:%s\n' "$PW" >"$tmp/passwords"
export BAOMI_DB="$tmp/demo.db"
"$B/baomi" init --passwords "$tmp/passwords" >/dev/null
"$B/baomi" demo >/dev/null
"$B/hello_mhd" "$P_REF" >/dev/null &
ref=$!
BAOMI_OPENAPI=/dev/null "$B/baomi" serve --listen "127.0.0.1:$P_API" >"$tmp/serve.out" 2>/dev/null &
api=$!
for _ in $(seq 50); do
	grep -q listening "$tmp/serve.out" 2>/dev/null && break
	sleep 0.1
done
URL=http://127.0.0.1:$P_API
TOKEN=$(curl -sf -H 'Content-Type: application/json' \
	-d "{\"name\":\"secadmin\",\"password\":\"$PW\"}" "$URL/v1/login" |
	sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo '{"error":"login failed"}'; exit 1; }
export TOKEN

# ---- request bodies and wrk scripts
ONE='{"person":"E1001","action":"read","object":{"level":"secret","compartments":["ALPHA"]}}'
awk 'BEGIN {
	split("confidential secret top_secret", lv, " ");
	split("ALPHA CRYPTO ORBIT", cp, " ");
	printf "{\"requests\":[";
	for (i = 0; i < 1000; i++)
		printf "%s{\"person\":\"E%d\",\"action\":\"read\",\"object\":{\"level\":\"%s\",\"compartments\":[\"%s\"]}}",
		       i ? "," : "", 1001 + (i * 7) % 600, lv[i % 3 + 1], cp[i % 3 + 1];
	printf "]}";
}' >"$tmp/batch.json"
cat >"$tmp/post.lua" <<EOF
local f = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
EOF
cat >"$tmp/soak.lua" <<EOF
local token = "Bearer " .. os.getenv("TOKEN")
local n = 0
request = function()
	n = n + 1
	local id = "E" .. (1001 + n % 600)
	if n % 2 == 0 then
		return wrk.format("GET", "/v1/persons/" .. id, {["Authorization"] = token})
	end
	return wrk.format("POST", "/v1/decisions", {["Authorization"] = token,
		["Content-Type"] = "application/json"},
		'{"person":"' .. id .. '","action":"read","object":{"level":"secret","compartments":["ALPHA"]}}')
end
EOF
printf '%s' "$ONE" >"$tmp/one.json"

# run NAME ARGS...: one wrk run; prints its JSON line, leaves rps in $RPS.
run() {
	name=$1
	shift
	out=$(wrk -t2 -c50 "$@")
	RPS=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	errs=$(echo "$out" | awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	echo "{\"round\":$i,\"what\":\"$name\",\"rps\":$RPS,\"non_2xx\":${bad:-0},\"socket_errors\":${errs:-0},\"p50\":\"$p50\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
}
best() { # best NEW OLD
	echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'
}

ref_best=0; get_best=0; one_best=0; batch_best=0; ratio_best=0; ratios=
for i in $(seq "$N"); do
	run hello_mhd -d"${D}s" "http://127.0.0.1:$P_REF/"
	r=$RPS
	ref_best=$(best "$r" "$ref_best")
	run get_person --latency -d"${D}s" -H "Authorization: Bearer $TOKEN" "$URL/v1/persons/E1001"
	get_best=$(best "$RPS" "$get_best")
	ratio=$(echo "scale=3; $RPS / $r" | bc)
	ratio_best=$(best "$ratio" "$ratio_best")
	ratios="$ratios $ratio"
	BODY_FILE="$tmp/one.json" run decide --latency -d"${D}s" -s "$tmp/post.lua" "$URL/v1/decisions"
	one_best=$(best "$RPS" "$one_best")
	BODY_FILE="$tmp/batch.json" run decide_batch_1000 --latency -d"${D}s" -s "$tmp/post.lua" \
		"$URL/v1/decisions/batch"
	batch_best=$(best "$RPS" "$batch_best")
done

# ---- soak: RSS after warm-up and at the end
rss() { awk '/^VmRSS/ {print $2}' "/proc/$api/status"; }
i=soak
wrk -t2 -c50 -d"${SOAK}s" -s "$tmp/soak.lua" "$URL/" >"$tmp/soak.out" &
w=$!
sleep "$WARM"
rss0=$(rss)
rssmax=$rss0
t=$WARM
while [ "$t" -lt $((SOAK - 1)) ]; do
	sleep 1
	t=$((t + 1))
	r=$(rss)
	[ "$r" -gt "$rssmax" ] && rssmax=$r
done
rss1=$(rss)
wait "$w"
soak_rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/soak.out")
soak_bad=$(awk '/Non-2xx/ {print $NF}' "$tmp/soak.out")
growth=$(echo "scale=2; ($rss1 - $rss0) * 100 / $rss0" | bc)
echo "{\"what\":\"soak\",\"seconds\":$SOAK,\"rps\":$soak_rps,\"non_2xx\":${soak_bad:-0},\"rss_kib_after_warmup\":$rss0,\"rss_kib_end\":$rss1,\"rss_kib_max\":$rssmax,\"growth_pct\":$growth,\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
# the median of the per-round ratios: one lucky or unlucky hello_mhd round
# cannot move it
ratio_median=$(echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -n |
	awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
echo "{\"summary\":\"best of $N\",\"hello_mhd_rps\":$ref_best,\"get_person_rps\":$get_best,\"get_vs_hello_best_round\":$ratio_best,\"get_vs_hello_median\":$ratio_median,\"best_get_vs_best_hello\":$(echo "scale=3; $get_best / $ref_best" | bc),\"decide_rps\":$one_best,\"batch_rps\":$batch_best,\"batch_decisions_per_s\":$(echo "$batch_best * 1000 / 1" | bc),\"soak_rss_growth_pct\":$growth}"
