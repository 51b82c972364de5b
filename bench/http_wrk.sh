#!/bin/sh
# http_wrk.sh - the HTTP benchmark: wrk -t2 -c50 (keep-alive) against the
# bare libmicrohttpd reference (bench/hello_mhd) and an authenticated GET of
# the framework (bench/bench_http), alternating, in the same run.  Prints one
# JSON line per measurement and a summary with the ratio.
# Usage: bench/http_wrk.sh [builddir] [seconds] [rounds]
set -eu
B=${1:-build}
D=${2:-5}
N=${3:-3}
TOKEN=bench-token-0123456789abcdef
"$B/hello_mhd" 18181 >/dev/null & P1=$!
"$B/bench_http" 18182 "$TOKEN" >/dev/null 2>/dev/null & P2=$!
trap 'kill $P1 $P2 2>/dev/null' EXIT
sleep 0.5
rps() { wrk -t2 -c50 -d"${D}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
ref=0; fw=0
for i in $(seq "$N"); do
	a=$(rps http://127.0.0.1:18181/)
	b=$(rps -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18182/v1/hello)
	echo "{\"round\":$i,\"hello_mhd_rps\":$a,\"baomi_auth_get_rps\":$b}"
	ref=$(echo "$ref + $a" | bc); fw=$(echo "$fw + $b" | bc)
done
echo "{\"hello_mhd_rps\":$(echo "$ref / $N" | bc),\"baomi_auth_get_rps\":$(echo "$fw / $N" | bc),\"ratio\":$(echo "scale=3; $fw / $ref" | bc)}"
