#!/bin/sh
# beside.sh - decisions beside an officer's work: does anything an officer
# does hold a decision back?  On a copy of a large database (made by
# `build/bench_load 1000000 DIR keep`), with the server on its default
# threads, wrk asks POST /v1/decisions (1 thread, 8 connections, keep-alive)
# for S seconds in three settings, each its own JSON line:
#   alone    nothing else runs (the reference, same run);
#   reports  two clients ask GET /v1/reports/compliance over and over;
#   writes   the sqlite3 shell holds the write lock for S seconds while four
#            clients each POST a unit (they wait for the lock).
# Latencies are wrk's (--timeout 60s, so a stalled request is counted, not
# dropped).  With OLD=dir another build's baomi runs the same three after
# this one, on its own copy, for a before/after in one run.
# Usage: BUILD=build [OLD=/tmp/old/w/build] bench/beside.sh DB [seconds]
set -eu
B=${BUILD:-build}
DB=$1
S=${2:-10}
P=${P:-18193}
tmp=$(mktemp -d)
api=""
cleanup() {
	[ -n "$api" ] && kill "$api" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
URL=http://127.0.0.1:$P
PW=beside-secadmin-password-01

# serve BIN: the server of BIN on a fresh copy of DB, once ready; TOKEN set.
serve() {
	cp "$DB" "$tmp/b.db"
	cp "$DB.key" "$tmp/b.db.key"
	export BAOMI_DB="$tmp/b.db" BAOMI_KEY="$tmp/b.db.key"
	printf '%s\n' "$PW" >"$tmp/pw"
	"$1" account passwd secadmin --password-file "$tmp/pw" >/dev/null
	BAOMI_OPENAPI=/dev/null "$1" serve --listen "127.0.0.1:$P" >"$tmp/serve.out" 2>/dev/null &
	api=$!
	until curl -sf -o /dev/null "$URL/readyz"; do sleep 0.5; done
	# the due run at start holds the write lock; a login waits for it
	sleep 2
	TOKEN=$(curl -sf -H 'Content-Type: application/json' \
		-d "{\"name\":\"secadmin\",\"password\":\"$PW\"}" "$URL/v1/login" |
		sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
	[ -n "$TOKEN" ] || { echo '{"error":"login failed"}'; exit 1; }
	export TOKEN
}

cat >"$tmp/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"person":"E0000001","action":"read","object":{"level":"secret","compartments":["ALPHA"]}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
EOF

# measure BUILDNAME SETTING: one wrk run, one JSON line.
measure() {
	out=$(wrk -t1 -c8 -d"${S}s" --timeout 60s --latency -s "$tmp/post.lua" "$URL/v1/decisions")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	max=$(echo "$out" | awk '$1 == "Latency" {print $4}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	echo "{\"build\":\"$1\",\"with\":\"$2\",\"rps\":$rps,\"p50\":\"$p50\",\"p99\":\"$p99\",\"max\":\"$max\",\"non_2xx\":${bad:-0},\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
}

# reports: two clients asking for the compliance report until killed;
# their pids in LOOPS.
reports() {
	LOOPS=
	for _ in 1 2; do
		(while :; do
			curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/v1/reports/compliance"
		done) &
		LOOPS="$LOOPS $!"
	done
}

# one_build NAME BIN: the three settings against BIN's server.
one_build() {
	serve "$2"
	measure "$1" alone
	reports
	sleep 0.5
	measure "$1" reports
	kill $LOOPS
	sleep 4 # the reports in flight finish
	(printf '.timeout 10000\nBEGIN IMMEDIATE;\n.system sleep %s\nCOMMIT;\n' "$((S + 1))" |
		sqlite3 -batch "$BAOMI_DB") &
	held=$!
	sleep 0.3
	writers=
	for k in 1 2 3 4; do
		curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			-d "{\"code\":\"BESIDE$k\",\"name\":\"b\"}" "$URL/v1/units" &
		writers="$writers $!"
	done
	sleep 0.3
	measure "$1" writes
	wait $held $writers || true
	kill "$api"
	wait "$api" 2>/dev/null || true
	api=""
}

one_build new "$B/baomi"
[ -n "${OLD:-}" ] && one_build old "$OLD/baomi"
exit 0
