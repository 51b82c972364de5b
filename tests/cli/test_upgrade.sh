# An upgrade from the previous release keeps every record working.
#
# tests/fixtures/upgrade-0dae92a.db.gz (with its key file) was made by baomi
# at commit 0dae92a, the release before schema step 7 (persons.state_since)
# and before stored policies were read by policy_stored_from_json.  Regenerate
# it with tests/fixtures/make-upgrade-fixture.sh [COMMIT]: it builds that
# commit in a scratch worktree, makes the database (init, a 60-person demo,
# then a policy load, accounts with roles and scopes, suspensions, matters,
# reviews, an import; see the script) and prints the old binary's answers,
# which are UPGRADE_OLD below, verbatim.  The key file is test data.
#
# The current baomi must open it (upgrading the schema to the latest step),
# verify its audit trail, give the same status and decision for every person
# except where a later commit deliberately changed a rule (UPGRADE_CHANGED,
# each line naming the commit), and write to it.

UPGRADE_FIXTURE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures" && pwd)/upgrade-0dae92a
UPGRADE_NOW=2026-11-10T09:00:00Z

# What baomi 0dae92a answered at UPGRADE_NOW (tests/fixtures/upgrade-answers.sh).
UPGRADE_OLD='
E1001 suspended general not_cleared until=- not_suspended:suspended,on_post:ok deny(3):suspended
E1002 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1003 suspended key not_cleared until=- review:ok,not_suspended:suspended,on_post:ok deny(3):suspended
E1004 active key cleared until=2026-12-03 review:ok,not_suspended:ok,on_post:ok allow
E1005 suspended key not_cleared until=- review:ok,not_suspended:suspended,on_post:ok deny(3):suspended
E1006 reviewing none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1007 rejected none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1008 active general cleared until=- not_suspended:ok,on_post:ok allow
E1009 active key cleared until=2026-12-01 review:ok,not_suspended:ok,on_post:ok allow
E1010 released general not_cleared until=- not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1011 active general cleared until=- not_suspended:ok,on_post:ok allow
E1012 active core cleared until=2027-11-01 review:ok,not_suspended:ok,on_post:ok allow
E1013 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1014 decontamination general not_cleared until=- not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1015 reviewing none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1016 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1017 active general cleared until=- not_suspended:ok,on_post:ok allow
E1018 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1019 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1020 active general cleared until=- not_suspended:ok,on_post:ok allow
E1021 onboarding general not_cleared until=- not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1022 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1023 leaving key not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1024 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1025 leaving key not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1026 active general cleared until=- not_suspended:ok,on_post:ok allow
E1027 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1028 active core cleared until=2027-11-01 review:ok,not_suspended:ok,on_post:ok allow
E1029 active general cleared until=- not_suspended:ok,on_post:ok allow
E1030 active core cleared until=2026-12-01 review:ok,not_suspended:ok,on_post:ok allow
E1031 reviewing none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1032 active general cleared until=- not_suspended:ok,on_post:ok allow
E1033 reviewing none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1034 active general cleared until=- not_suspended:ok,on_post:ok allow
E1035 active core cleared until=2027-11-01 review:ok,not_suspended:ok,on_post:ok allow
E1036 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1037 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1038 suspended none not_cleared until=- not_suspended:suspended,secret_post:no_secret_post deny(3):no_secret_post,suspended,level_too_low
E1039 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1040 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1041 leaving key not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1042 decontamination key not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1043 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1044 candidate none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1045 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1046 suspended core not_cleared until=- review:ok,not_suspended:suspended,on_post:ok deny(3):suspended
E1047 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1048 active none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1049 suspended core not_cleared until=- review:ok,not_suspended:suspended,on_post:ok deny(3):suspended
E1050 released core not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1051 released key not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1052 released core not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1053 candidate none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1054 active key cleared until=2029-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1055 rejected none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E1056 active core cleared until=2027-11-01 review:ok,not_suspended:ok,on_post:ok allow
E1057 onboarding general not_cleared until=- not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1058 active core cleared until=2027-11-01 review:ok,not_suspended:ok,on_post:ok allow
E1059 active general cleared until=- not_suspended:ok,on_post:ok allow
E1060 rejected none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E2001 onboarding general not_cleared until=- not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E2002 candidate none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
E2003 candidate none not_cleared until=- not_suspended:ok,secret_post:no_secret_post deny(3):no_secret_post,level_too_low
'

# The answers later commits changed on purpose, as the current baomi gives them.
# 5281058/24d302f: every category's gates include review; the stored policy v2
#   listed none for general, and reads with it, so general persons gain the
#   review gate, a valid-until, and E1026, whose review lapsed on 2026-10-02,
#   is no longer cleared (the old binary cleared them without a valid review).
# d9681c9: policy v2 shortened key's re-review interval from 1095 to 730 days;
#   a shorter interval applies at once to reviews approved before it, so key
#   persons approved on 2026-11-01 are cleared until 2028-10-31, not 2029-10-31.
UPGRADE_CHANGED='
E1001 suspended general not_cleared until=- review:ok,not_suspended:suspended,on_post:ok deny(3):suspended
E1008 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1010 released general not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1011 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1014 decontamination general not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1017 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1018 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1019 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1020 active general cleared until=2026-12-01 review:ok,not_suspended:ok,on_post:ok allow
E1021 onboarding general not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1022 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1024 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1026 active general not_cleared until=- review:review_expired,not_suspended:ok,on_post:ok deny(3):review_expired
E1029 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1032 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1034 active general cleared until=2026-12-01 review:ok,not_suspended:ok,on_post:ok allow
E1037 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1039 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1040 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1045 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1054 active key cleared until=2028-10-31 review:ok,not_suspended:ok,on_post:ok allow
E1057 onboarding general not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
E1059 active general cleared until=2031-10-31 review:ok,not_suspended:ok,on_post:ok allow
E2001 onboarding general not_cleared until=- review:ok,not_suspended:ok,on_post:not_on_post deny(3):not_on_post
'

# Copies the fixture to ./test.db (the test's BAOMI_DB) with its key file.
upgrade_copy() {
	gunzip -c "$UPGRADE_FIXTURE.db.gz" >test.db || return 1
	cp "$UPGRADE_FIXTURE.db.key" test.db.key && chmod 600 test.db.key
}

# Unix seconds of an ISO instant.
epoch() { date -u -d "$1" +%s; }

t_upgrade_schema_to_latest_and_audit_intact() {
	upgrade_copy || return 1
	eq "$(sqlite3 test.db 'PRAGMA user_version')" 6 "the fixture is the schema of 0dae92a"
	local events
	events=$(sqlite3 test.db 'SELECT count(*) FROM audit')
	BAOMI_NOW=$UPGRADE_NOW expect 0 audit verify || return 1
	has_out "audit trail intact: $events events"
	expect 0 --db fresh.db init || return 1
	eq "$(sqlite3 test.db 'PRAGMA user_version')" "$(sqlite3 fresh.db 'PRAGMA user_version')" \
		"schema after the upgrade"
	# when a person entered their state before step 7 is unknown, never guessed
	eq "$(sqlite3 test.db 'SELECT count(*) FROM persons WHERE state_since IS NOT NULL')" 0
	eq "$(sqlite3 test.db 'SELECT count(*) FROM persons')" 63
}

t_upgrade_answers_as_the_old_release_gave() {
	upgrade_copy || return 1
	BAOMI_NOW=$UPGRADE_NOW "$(dirname "$UPGRADE_FIXTURE")/upgrade-answers.sh" >got.txt ||
		return 1
	printf '%s\n' "$UPGRADE_OLD" | grep . >old.txt
	printf '%s\n' "$UPGRADE_CHANGED" | grep . >changed.txt
	# expected: the old answer, or the changed one where a commit meant it
	awk 'NR == FNR { c[$1] = $0; next } { print ($1 in c) ? c[$1] : $0 }' changed.txt old.txt \
		>want.txt
	diff want.txt got.txt >&2 || fail "answers differ from 0dae92a's (- expected, + got)"
	# every changed line is a change, of a person the old release knew
	eq "$(cut -d' ' -f1 changed.txt | grep -cxFf - <(cut -d' ' -f1 old.txt))" \
		"$(wc -l <changed.txt)" "changed persons known"
	eq "$(grep -cxFf changed.txt old.txt)" 0 "a changed line equal to the old one"
	eq "$(wc -l <got.txt)" 63 "persons answered"
}

t_upgrade_reads_every_record() {
	upgrade_copy || return 1
	export BAOMI_NOW=$UPGRADE_NOW
	expect 0 --json policy show || return 1
	eq "$(json v.version)" 2
	eq "$(json 'v.categories.general.gates.join()')" "review,not_suspended,on_post"
	eq "$(json v.categories.key.rereview_days)" 730
	expect 0 policy versions || return 1
	eq "$(printf '%s\n' "$OUT" | grep -c '^[12] ')" 2 "policy versions"
	expect 0 account list || return 1
	printf '%s\n' "$OUT" | grep -qE '^off-e +officer +HQ-E ' || fail "off-e scoped: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^off-r +officer +HQ-R ' || fail "off-r scoped: $OUT"
	has_out "he-li"
	# the key file still opens the sensitive fields and the blind index
	expect 0 person show E2001 --reveal || return 1
	has_out "national_id: 11010519491231002X"
	has_out "passport: E12345678"
	expect 0 person find --passport G87654321 || return 1
	has_out "E2003"
	expect 0 --json person list --unit HQ-X || return 1
	eq "$(json v.length)" 3
	expect 0 --json review list E1006 || return 1
	eq "$(json 'v.map(r=>r.state+":"+r.level).join()')" "open:secret"
	expect 0 --json matter list E1005 || return 1
	has_out '"leak"'
	expect 0 --json audit log --action 'import.*' || return 1
	eq "$(json v.length)" 4 "imports audited"
	expect 0 report compliance || return 1
	has_out "HQ-X"
	expect 0 due --within 30d || return 1
	has_out "E1004"
	BAOMI_NOW=2026-11-10T09:00:00Z expect 0 audit verify || return 1
}

t_upgrade_writes_and_dates_new_states() {
	upgrade_copy || return 1
	local t1=2026-11-11T09:00:00Z t2=2026-11-12T09:00:00Z rid
	export BAOMI_NOW=$t1
	expect 0 suspend E1018 --reason "after the upgrade" || return 1
	# finish the review 0dae92a left open, then appoint and activate
	expect 0 --json review list E1006 || return 1
	rid=$(json 'v[0].id')
	for i in 4 5 6; do
		expect 0 review finding "$rid" "$i" clear || return 1
	done
	expect 0 --as rev-a review approve "$rid" --reason "all clear" || return 1
	expect 0 appointment add E1006 P-102 --start 2026-11-11 || return 1
	# the status says since when E1006 is off post: onboarding since the approval
	expect 0 --json status E1006 || return 1
	eq "$(json 'v.state+" "+v.gates.find(g=>g.gate==="on_post").since')" "onboarding $t1"
	printf 'id,name,unit,national_id,passport\nE2004,New Hire,HQ-X,110105194912310053,\n' >p.csv
	expect 0 import persons p.csv || return 1
	has_out "1 added"
	BAOMI_NOW=$t2 expect 0 activate E1006 || return 1
	BAOMI_NOW=$t2 expect 0 reinstate E1003 --reason "laptop found" || return 1
	local q="SELECT ext_id || '=' || ifnull(state_since, '-') FROM persons WHERE ext_id IN
		('E1002', 'E1003', 'E1006', 'E1018', 'E2004') ORDER BY ext_id"
	eq "$(sqlite3 test.db "$q" | paste -sd' ' -)" \
		"E1002=- E1003=$(epoch $t2) E1006=$(epoch $t2) E1018=$(epoch $t1) E2004=$(epoch $t1)"
	BAOMI_NOW=$t2 expect 0 --json status E1006 || return 1
	eq "$(json v.cleared)" true "E1006 after review, appointment and activation"
	BAOMI_NOW=$t2 expect 3 decide E1018 read confidential || return 1
	has_out "suspended"
	BAOMI_NOW=$t2 expect 0 decide E1003 read confidential || return 1
	BAOMI_NOW=$t2 expect 0 audit verify || return 1
}

# The server is the first to open the old database: it upgrades it, loads
# its snapshot and answers decisions and clearances as the console does.
t_upgrade_serve_answers() {
	upgrade_copy || return 1
	local pid url i
	BAOMI_NOW=$UPGRADE_NOW "$BAOMI" serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
	pid=$!
	for i in $(seq 100); do
		url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' serve.out)
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { kill "$pid"; fail "server did not start: $(cat serve.err)"; return 1; }
	URL=$url node -e '
const u = process.env.URL, pw = "correct horse battery staple 1";
const call = async (m, p, tok, body) => { const r = await fetch(u + p, { method: m,
  headers: { "content-type": "application/json", ...(tok ? { authorization: "Bearer " + tok } : {}) },
  body: body ? JSON.stringify(body) : undefined }); return { s: r.status, j: await r.json() }; };
(async () => {
  let r;
  for (let i = 0; i < 100; i++) { r = await call("GET", "/readyz"); if (r.s === 200) break;
    await new Promise((z) => setTimeout(z, 50)); }
  const out = ["readyz " + r.s];
  const tok = (await call("POST", "/v1/login", null, { name: "off-hq", password: pw })).j.token;
  for (const p of ["E1004", "E1003", "E1026"]) {
    r = await call("POST", "/v1/decisions", tok, { person: p, action: "read", object: { level: "confidential" } });
    out.push(p + " " + r.s + " " + r.j.allow + " " + r.j.reasons.map((x) => x.code).join());
  }
  r = await call("GET", "/v1/persons/E1018/clearance", tok);
  out.push("clearance " + r.s + " " + r.j.cleared + " " + r.j.valid_until);
  const me = (await call("POST", "/v1/login", null, { name: "he-li", password: pw })).j.token;
  r = await call("GET", "/v1/me/clearance", me);
  out.push("me " + r.s + " " + r.j.person + " " + r.j.cleared);
  console.log(out.join("\n"));
})().catch((x) => { console.log(String(x)); process.exit(1); });' >answers.txt
	kill "$pid" && wait "$pid"
	eq "$(cat answers.txt)" "readyz 200
E1004 200 true 
E1003 200 false suspended
E1026 200 false review_expired
clearance 200 true 2028-10-31T09:00:00Z
me 200 E1012 true" "answers of the server"
	eq "$(sqlite3 test.db 'SELECT count(*) FROM pragma_table_info('"'persons'"') WHERE name = '"'state_since'"'')" 1
}
