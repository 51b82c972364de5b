# tests/cli/test_tamper.sh - a database edited by hand with the sqlite3 shell
# (foreign keys and CHECK constraints switched off where needed) must never
# crash baomi, read out of bounds or let a value outside the model reach a
# decision.  A damaged row is an error naming the table, row and column, and
# a decision about the person it belongs to is a denial with the reason
# record_damaged, while everyone else's decisions go on.

# E1 (a cleared person on a secret post, ALPHA,BRAVO) and E2 (cleared on a
# confidential post), both active; sets R to E1's review id.
tamper_org() {
	setup_org || return 1
	expect 0 person add E1 --name "Alice" --unit HQ-R || return 1
	expect 0 person add E2 --name "Bob" --unit HQ-A || return 1
	review_ok E1 secret || return 1
	R=$(sqlite3 "$BAOMI_DB" "SELECT max(id) FROM reviews")
	review_ok E2 confidential || return 1
	expect 0 appointment add E1 P-100 || return 1
	expect 0 appointment add E2 P-300 || return 1
	expect 0 activate E1 || return 1
	expect 0 activate E2 || return 1
	expect 0 decide E1 read secret --compartments ALPHA || return 1
}

# tamper SQL: runs SQL on the test database, as someone with file access.
tamper() {
	sqlite3 "$BAOMI_DB" "$1" || fail "sqlite3: $1"
}

# denied_damaged PERSON: a decision about PERSON is a denial naming
# record_damaged (and no crash, no allow).
denied_damaged() {
	expect 3 decide "$1" read confidential --json || return 1
	eq "$(json v.allow)" false "decision about $1"
	eq "$(json 'v.reasons.map(r => r.code).includes("record_damaged")')" true \
		"reasons: ${OUT:0:300}"
}

# E2 is untouched by the tampering: still allowed.
others_still_decided() {
	expect 0 decide E2 read confidential || return 1
}

# A review item's finding was an index into a table of three names: 7 read
# past its end (UBSan: index 7 out of bounds) in review show and the HTTP
# review view.
t_tamper_review_finding_out_of_range_is_named() {
	tamper_org || return 1
	tamper "PRAGMA ignore_check_constraints=1; UPDATE review_items SET finding=7 WHERE review_id=$R AND item=2"
	expect 1 review show "$R" || return 1
	has_err "damaged database: review_items row $R: finding 7 is out of range 1..3"
	tamper "PRAGMA ignore_check_constraints=1; UPDATE review_items SET finding=1, item=9 WHERE review_id=$R AND item=2"
	expect 1 review show "$R" --json || return 1
	has_err "review_items row $R: item 9 is out of range 1..6"
	others_still_decided
}

# persons.state is INTEGER: 4294967299 was read as an int, 3, "active", and
# the person allowed.
t_tamper_person_state_out_of_range_denies() {
	tamper_org || return 1
	tamper "UPDATE persons SET state=4294967299 WHERE ext_id='E1'"
	denied_damaged E1 || return 1
	expect 1 status E1 || return 1
	has_err "damaged database: persons row 1 (E1): state 4294967299 is out of range 0..8"
	expect 1 person show E1 || return 1
	has_err "persons row 1 (E1): state"
	tamper "UPDATE persons SET state=99 WHERE ext_id='E1'"
	denied_damaged E1 || return 1
	others_still_decided
}

# The compliance report counted a person whose state is out of range as a
# candidate at their stored level: a damaged row's state and level are not
# anyone's, so it counts under damaged, not cleared, with record_damaged.
t_tamper_report_counts_damaged_apart() {
	tamper_org || return 1
	tamper "UPDATE persons SET state=99 WHERE ext_id='E1'"
	expect 0 --json report compliance --unit HQ-R || return 1
	eq "$(json 'JSON.stringify(v.units.map(u => [u.unit, u.damaged, u.persons, u.not_cleared]))')" \
		'[["HQ-R",1,{},1]]' "HQ-R: ${OUT:0:400}"
	eq "$(json 'v.units[0].top_reasons.map(r => r.code + ":" + r.count + ":" + (r.message_zh.length > 0)).join()')" \
		"record_damaged:1:true" "reasons: ${OUT:0:400}"
	expect 0 report compliance --unit HQ-R || return 1
	case "$OUT" in *"  damaged   1"*) ;; *) fail "table names no damaged line: $OUT"; return 1 ;; esac
	expect 0 --json report compliance --unit HQ-A || return 1
	eq "$(json 'JSON.stringify([v.units[0].damaged, v.units[0].persons])')" \
		'[0,{"general":{"active":1}}]' "HQ-A: ${OUT:0:400}"
}

# A review at level 4 (CHECK switched off) dominated every level: allowed.
t_tamper_review_level_out_of_range_denies() {
	tamper_org || return 1
	tamper "PRAGMA ignore_check_constraints=1; UPDATE reviews SET level=4 WHERE id=$R"
	denied_damaged E1 || return 1
	expect 1 status E1 || return 1
	has_err "reviews row $R: level 4 is out of range 1..3"
	expect 1 review show "$R" || return 1
	others_still_decided
}

# persons.level is derived from the open posts: raised alone (1 -> 3, or
# with the post deleted) it made a clearance nobody granted.
t_tamper_level_without_its_post_denies() {
	tamper_org || return 1
	tamper "UPDATE persons SET level=3 WHERE ext_id='E2'"
	expect 3 decide E2 read top_secret --json || return 1
	eq "$(json 'v.reasons.map(r => r.code).join()')" "record_damaged"
	expect 1 status E2 || return 1
	has_err "persons row 2 (E2): level 3 is not 1, the highest level of the open posts"
	tamper "PRAGMA foreign_keys=OFF; DELETE FROM posts WHERE code='P-100'"
	denied_damaged E1 || return 1
	expect 1 status E1 || return 1
	has_err "persons row 1 (E1): appointments hold a post that does not exist"
}

# One person's malformed compartment list failed the whole snapshot: every
# decision, anyone's, exited 65 blaming the request ("bad compartment
# code"), and a server never became ready.  A NUL inside the list cut it
# short silently; a duplicated code passed.
t_tamper_compartments_malformed_deny_that_person_only() {
	tamper_org || return 1
	local bad
	for bad in "'{\"a\":1}'" "'ALPHA,ALPHA'" "'BRAVO,ALPHA'" "'alpha'" "','" \
		"CAST(X'414C50484100425241564F' AS TEXT)" "CAST(X'414CFFFE' AS TEXT)" \
		"'ALPHA,' || hex(zeroblob(200))" \
		"(WITH RECURSIVE c(n, s) AS (SELECT 1, 'C0001' UNION ALL SELECT n + 1, s || ',C' || printf('%04d', n + 1) FROM c WHERE n < 10000) SELECT s FROM c WHERE n = 10000)"; do
		tamper "UPDATE persons SET compartments=$bad WHERE ext_id='E1'"
		denied_damaged E1 || return 1
		others_still_decided || return 1
		expect 1 status E1 || return 1
		has_err "persons row 1 (E1): compartments"
	done
}

# Text that is not UTF-8 broke the JSON views ("baomi: ok" with exit 1,
# HTTP 500 with no message, or invalid UTF-8 in a 200 body); a text longer
# than its field was cut short, so an ext_id of 70 bytes answered decisions
# under its first 63.
t_tamper_text_must_be_whole_utf8() {
	tamper_org || return 1
	tamper "UPDATE persons SET name=CAST(X'41FF42' AS TEXT) WHERE ext_id='E2'"
	expect 1 person show E2 || return 1
	has_err "damaged database: persons row 2 (E2): name is not valid UTF-8"
	expect 1 person list || return 1
	has_err "persons row 2 (E2): name is not valid UTF-8"
	tamper "UPDATE persons SET name='Bob' WHERE ext_id='E2'"
	local long=E1$(printf 'X%.0s' $(seq 1 68))
	tamper "UPDATE persons SET ext_id='$long' WHERE ext_id='E1'"
	expect 3 decide "${long:0:63}" read confidential --json || return 1
	eq "$(json 'v.reasons[0].code')" unknown_person
	expect 1 person list || return 1
	has_err "persons row 1: ext_id is 70 bytes, longer than 63"
	others_still_decided
}

# Instants: a decided_at at the end of int64 overflowed the re-review date
# (UBSan: signed integer overflow in gate.c); a negative valid_until was
# taken as "none"; one before decided_at is no approval.
t_tamper_review_instants_out_of_range_deny() {
	tamper_org || return 1
	local v
	for v in "decided_at=9223372036854775807" "valid_until=-5" \
		"valid_until=9223372036854775807" "valid_until=decided_at-1"; do
		tamper "UPDATE reviews SET $v WHERE id=$R"
		denied_damaged E1 || return 1
		expect 1 status E1 || return 1
		has_err "reviews row $R:"
		expect 0 due || return 1
		expect 0 report compliance || return 1
		tamper "UPDATE reviews SET decided_at=opened_at, valid_until=opened_at+86400*365 WHERE id=$R"
	done
	others_still_decided
}

# accounts.roles wider than 32 bits was cast to uint32_t: 2^32 + 2 read as
# secadmin, a role nobody granted.
t_tamper_account_roles_out_of_range() {
	tamper_org || return 1
	expect 0 account add aud2 --roles auditor || return 1
	tamper "UPDATE accounts SET roles=4294967298 WHERE name='aud2'"
	expect 1 account list || return 1
	has_err "damaged database: accounts row"
	has_err "(aud2): roles 4294967298 is out of range 0..127"
}

# Unit cycles and dangling units: every read path finishes (the recursive
# walks are bounded), nothing crashes, and decisions are unchanged.
t_tamper_unit_cycle_terminates() {
	tamper_org || return 1
	tamper "UPDATE units SET parent_id=(SELECT id FROM units WHERE code='HQ-R') WHERE code='HQ'"
	expect 0 report compliance --unit HQ || return 1
	expect 0 person list --unit HQ-R || return 1
	expect 0 due || return 1
	tamper "UPDATE units SET parent_id=id WHERE code='HQ-R'"
	expect 0 report compliance --unit HQ-R || return 1
	expect 0 decide E1 read secret --compartments ALPHA || return 1
}
