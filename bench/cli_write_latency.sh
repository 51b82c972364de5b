#!/usr/bin/env bash
# How soon a write made by another process (the console) reaches the
# server's decisions: a demo database, `baomi serve`, then for up to eight
# cleared persons a console `baomi suspend` and POST /v1/decisions every
# 5 ms until it denies.  Prints one JSON line with each latency in ms,
# measured from the end of the console command.  The maintenance thread
# checks PRAGMA data_version every 250 ms (src/http/maint.c).
set -euo pipefail
BUILD=${BUILD:-build}
PORT=${PORT:-18444}
baomi=$(cd "$(dirname "$BUILD/baomi")" && pwd)/baomi
dir=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
export BAOMI_DB=$dir/d.db
printf 'secadmin:bench-secadmin-password-1\n' >"$dir/pw"
"$baomi" init --passwords "$dir/pw" >/dev/null
"$baomi" demo --persons 200 >/dev/null
"$baomi" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
BAOMI="$baomi" URL="http://127.0.0.1:$PORT" node --input-type=module -e '
import { execFileSync } from "node:child_process";
const { BAOMI, URL } = process.env;
const post = async (p, b, t) => (await fetch(URL + p, { method: "POST",
  headers: { "Content-Type": "application/json", ...(t ? { Authorization: `Bearer ${t}` } : {}) },
  body: JSON.stringify(b) })).json();
const tok = (await post("/v1/login", { name: "secadmin", password: "bench-secadmin-password-1" })).token;
const active = JSON.parse(execFileSync(BAOMI, ["person", "list", "--state", "active", "--json"], { encoding: "utf8" }));
const ms = [];
for (const p of active) {
  if (ms.length === 8) break;
  const ask = () => post("/v1/decisions", { person: p.id, action: "read", object: { level: "confidential", compartments: [] } }, tok);
  if (!(await ask()).allow) continue;
  execFileSync(BAOMI, ["suspend", p.id, "--reason", "latency probe"]);
  const t0 = Date.now();
  while ((await ask()).allow) await new Promise((r) => setTimeout(r, 5));
  ms.push(Date.now() - t0);
}
console.log(JSON.stringify({ bench: "cli_write_to_decision_ms", samples: ms, max: Math.max(...ms) }));
'
