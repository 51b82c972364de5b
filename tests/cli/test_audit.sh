# Audit trail: every write audited, chain verified, tampering named by seq.

# A trail of a dozen events, with the append-only triggers removed so the
# tests can tamper like an attacker with file access would.
tamper_setup() {
	setup_org || return 1
	for i in 1 2 3 4 5; do
		expect 0 person add "E$i" --name "P$i" --unit HQ || return 1
	done
	sqlite3 test.db "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;" || return 1
	for t in $(sqlite3 test.db "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit'"); do
		sqlite3 test.db "DROP TRIGGER $t" || return 1
	done
}

t_audit_verify_intact() {
	setup_org || return 1
	expect 0 audit verify || return 1
	has_out "audit trail intact: 10 events"
	expect 0 audit verify --json || return 1
	eq "$(json v.ok)" true
	eq "$(json v.head.length)" 64
}

t_audit_table_is_append_only() {
	setup_org || return 1
	! sqlite3 test.db "UPDATE audit SET actor='x' WHERE seq=2" 2>/dev/null || fail "update allowed"
	! sqlite3 test.db "DELETE FROM audit WHERE seq=2" 2>/dev/null || fail "delete allowed"
}

t_audit_modified_event_named() {
	tamper_setup || return 1
	sqlite3 test.db "UPDATE audit SET fields=replace(fields,'P3','PX') WHERE seq=13" || return 1
	expect 1 audit verify || return 1
	has_err "seq 13"
	has_err "modified"
}

t_audit_modified_actor_named() {
	tamper_setup || return 1
	sqlite3 test.db "UPDATE audit SET actor='cli:nobody' WHERE seq=4" || return 1
	expect 1 audit verify || return 1
	has_err "seq 4"
}

t_audit_deleted_event_named() {
	tamper_setup || return 1
	sqlite3 test.db "DELETE FROM audit WHERE seq=6" || return 1
	expect 1 audit verify || return 1
	has_err "seq 6"
}

t_audit_inserted_event_named() {
	tamper_setup || return 1
	# Shift events 8.. up by one and forge a new event 8 copied from 7.
	sqlite3 test.db "UPDATE audit SET seq=seq+1000 WHERE seq>=8; UPDATE audit SET seq=seq-999 WHERE seq>=1008; INSERT INTO audit(seq,time_ms,actor,action,subjects,fields,prev,hash) SELECT 8,time_ms,actor,action,subjects,fields,hash,hash FROM audit WHERE seq=7;" || return 1
	expect 1 audit verify || return 1
	has_err "seq 8"
}

t_audit_reordered_events_named() {
	tamper_setup || return 1
	sqlite3 test.db "UPDATE audit SET seq=-1 WHERE seq=9; UPDATE audit SET seq=9 WHERE seq=10; UPDATE audit SET seq=10 WHERE seq=-1;" || return 1
	expect 1 audit verify || return 1
	has_err "seq 9"
}

t_audit_log_filters() {
	setup_org || return 1
	expect 0 person add E1001 --name "张伟" --unit HQ-R || return 1
	expect 0 person add E1002 --name "Li" --unit HQ-R || return 1
	expect 0 audit log --subject E1001 --json || return 1
	eq "$(json 'v.map(e=>e.action).join()')" person.add
	eq "$(json 'v[0].fields.name')" "张伟"
	expect 0 audit log --action 'unit.*' --json || return 1
	eq "$(json v.length)" 3
	expect 0 audit log --actor "cli:$(id -un)" --json || return 1
	[ "$(json v.length)" -ge 8 ] || fail "actor filter"
	expect 0 audit log --actor nobody --json || return 1
	eq "$(json v.length)" 0
	expect 0 audit log --since 2000-01-01 --limit 2 --json || return 1
	eq "$(json v.length)" 2
	expect 0 audit log --since 2999-01-01 --json || return 1
	eq "$(json v.length)" 0
	expect 65 audit log --since yesterday || return 1
	expect 0 audit log || return 1
	has_out "person.add"
}

t_audit_log_shows_a_damaged_event() {
	tamper_setup || return 1
	# Fields that are no longer JSON: the log must still be JSON and still
	# show the event, as stored, for the auditor to see what was done.
	sqlite3 test.db "UPDATE audit SET fields='{\"name\":\"P3' WHERE seq=13; UPDATE audit SET subjects='[E4' WHERE seq=14; UPDATE audit SET actor=CAST(x'ff41' AS TEXT) WHERE seq=15" || return 1
	expect 0 audit log --json || return 1
	eq "$(json 'v.filter(e=>e.seq==13).map(e=>e.fields).join()')" '{"name":"P3'
	eq "$(json 'v.filter(e=>e.seq==14).map(e=>e.subjects).join()')" '[E4'
	eq "$(json 'v.filter(e=>e.seq==15).length')" 1
	expect 0 audit log || return 1
	lacks_out "(null)"
	has_out "    14  "
	expect 1 audit verify || return 1
	has_err "seq 13"
}

# An account's link to a person decides whose record its self-service routes
# show and who it is under the separation rules: the audit event that creates
# the account records the link, as it records the roles and the scope.
t_audit_account_add_records_the_person_link() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	printf 'Long-enough-pw-1\n' >pw
	expect 0 account add self1 --roles person --person E1 --password-file pw || return 1
	expect 0 audit log --subject self1 --action account.add --json || return 1
	eq "$(json 'v[0].fields.person')" E1
	expect 0 account add plain --password-file pw || return 1
	expect 0 audit log --subject plain --action account.add --json || return 1
	eq "$(json 'v[0].fields.person')" null
}

# The console acting under another name (--as) is recorded as the console
# user acting as that name: it never reads as the account of that name.
t_console_as_name_is_recorded_as_console() {
	expect 0 init || return 1
	expect 0 --as auditor unit add X --name X || return 1
	expect 0 audit log --action unit.add --json || return 1
	eq "$(json 'v[0].actor')" "cli:$(id -un) as auditor"
	expect 0 audit log --actor auditor --action unit.add --json || return 1
	eq "$(json 'v.length')" 0
	# the server's own name is not one to act under: a review opened so
	# would read like one the server opened because it fell due
	for n in system SYSTEM System; do
		expect 2 --as "$n" unit add Y --name Y || return 1
		has_err "server acts under"
	done
	expect 0 audit verify || return 1
}

# The log's actor column is padded by display width: printf's %-16s padded
# "cli:root as 张" by its bytes (3 for a Chinese character of 2 columns), so
# its action started a column left of an ASCII actor's.
t_audit_log_columns_line_up_with_chinese_actors() {
	setup_org || return 1
	expect 0 --as "张" person add E1 --name "Alice" --unit HQ || return 1
	expect 0 --as "zw" person add E2 --name "Bob" --unit HQ || return 1
	expect 0 audit log --action person.add || return 1
	local a b
	a=$(printf '%s\n' "$OUT" | grep ' as 张 ')
	b=$(printf '%s\n' "$OUT" | grep ' as zw ')
	[ -n "$a" ] && [ -n "$b" ] || { fail "no rows for both actors: $OUT"; return 1; }
	# the column where person.add starts, in display columns
	col() { local pre="${1%%person.add*}"; printf '%s' "$pre" | sed 's/张/XX/' | wc -m; }
	eq "$(col "$a")" "$(col "$b")" "action column: $OUT"
}
