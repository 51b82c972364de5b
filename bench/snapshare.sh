#!/usr/bin/env bash
# snapshare.sh - what a big database costs the HTTP server: memory once every
# server thread has answered decisions, and how long one committed write
# takes to reach decisions answered on other connections (other threads).
#
# Usage: bench/snapshare.sh BAOMI DB [THREADS]
#   DB: a database with persons E0000001.. (bench_load N DIR keep makes one).
# Sets secadmin's password in DB, starts BAOMI serve on it, and prints one
# JSON line:
#   {"bench":"snapshare","threads":T,"ready_s":..,"rss_ready_mib":..,"anon_ready_mib":..,
#    "rss_warm_mib":..,"anon_warm_mib":..,"write_s":..,"visible_s":..,
#    "cli_visible_s":..,"loadavg":".."}
# ready_s: start until /readyz answers 200; *_warm: after 3 rounds of 4*T
# parallel decisions; rss is VmRSS (it counts database pages read through
# SQLite's memory map), anon is RssAnon (heap: snapshots, page caches);
# write_s: the suspension request; visible_s: from the write's start until
# 4*T parallel decisions all carry the reason; cli_visible_s: the same for
# `baomi suspend` run beside the server (another process; null: not seen
# within 20 s).
set -euo pipefail
baomi=$1 db=$2 threads=${3:-2}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=
echo 'bench-password-1' >"$tmp/pw"
"$baomi" --db "$db" account passwd secadmin --password-file "$tmp/pw" >/dev/null
now() { date +%s.%N; }
rss() { awk -v k="$1" '$1 == k":" {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }
t0=$(now)
"$baomi" --db "$db" serve --listen 127.0.0.1:0 --threads "$threads" >"$tmp/out" 2>/dev/null &
pid=$!
until grep -q listening "$tmp/out"; do sleep 0.01; done
url=$(sed -n 's/^listening on //p' "$tmp/out")
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; do sleep 0.02; done
ready=$(echo "$(now) - $t0" | bc)
rss_ready=$(rss VmRSS) anon_ready=$(rss RssAnon)
token=$(curl -s -X POST "$url/v1/login" -H 'Content-Type: application/json' \
	-d '{"name":"secadmin","password":"bench-password-1"}' | jq -r .token)
api() {	# METHOD PATH BODY
	curl -s -X "$1" "$url$2" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d "$3"
}
decide() { api POST /v1/decisions "{\"person\":\"$1\",\"action\":\"read\",\"object\":{\"level\":\"confidential\"}}"; }
many() {	# PERSON: 4*T decisions at once, one connection each; prints each answer
	export url token
	seq $((4 * threads)) | xargs -P $((4 * threads)) -I{} curl -s -X POST "$url/v1/decisions" \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d "{\"person\":\"$1\",\"action\":\"read\",\"object\":{\"level\":\"confidential\"}}" -w '\n'
}
for _ in 1 2 3; do many E0000001 >/dev/null; done
rss_warm=$(rss VmRSS) anon_warm=$(rss RssAnon)
# The first person on a post who is not suspended yet.
for i in $(seq 1 50); do
	p=$(printf 'E%07d' "$i")
	decide "$p" | grep -qE '"(suspended|no_secret_post)"' && continue
	tw=$(now)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/persons/$p/suspend" \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d '{"reason":"bench"}')
	[ "$code" = 204 ] && break
done
write=$(echo "$(now) - $tw" | bc)
until [ "$(many "$p" | grep -c '"suspended"')" = $((4 * threads)) ]; do :; done
visible=$(echo "$(now) - $tw" | bc)
# The same through the CLI (another process): null when not seen in 20 s.
for i in $(seq $((i + 1)) 80); do
	q=$(printf 'E%07d' "$i")
	decide "$q" | grep -qE '"(suspended|no_secret_post)"' && continue
	tc=$(now)
	"$baomi" --db "$db" suspend "$q" --reason bench >/dev/null 2>&1 && break
done
cli=null
while [ "$(echo "$(now) - $tc < 20" | bc)" = 1 ]; do
	if [ "$(many "$q" | grep -c '"suspended"')" = $((4 * threads)) ]; then
		cli=$(printf '%.3f' "$(echo "$(now) - $tc" | bc)")
		break
	fi
	sleep 0.05
done
printf '{"bench":"snapshare","threads":%s,"ready_s":%.3f,"rss_ready_mib":%s,"anon_ready_mib":%s,"rss_warm_mib":%s,"anon_warm_mib":%s,"write_s":%.3f,"visible_s":%.3f,"cli_visible_s":%s,"loadavg":"%s"}\n' \
	"$threads" "$ready" "$rss_ready" "$anon_ready" "$rss_warm" "$anon_warm" "$write" "$visible" "$cli" "$(cut -d' ' -f1-3 /proc/loadavg)"
