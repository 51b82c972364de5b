# Registry: units, posts, persons, appointments through the CLI.

t_init_creates_db_and_private_key() {
	expect 0 init || return 1
	[ -f test.db ] || fail "no database"
	[ -f test.db.key ] || fail "no key file"
	eq "$(stat -c %a test.db.key)" 600 "key file mode"
}

t_init_refuses_to_overwrite() {
	expect 0 init || return 1
	expect 1 init || return 1
	has_err "already exists"
	rm test.db
	expect 1 init || return 1
	has_err "test.db.key"
	[ ! -f test.db ] || fail "a database was created beside a foreign key file"
}

t_issue_forms_work() {
	setup_org || return 1
	expect 0 person add E1001 --name "张伟" --unit HQ-R --national-id 110101199003071234 || return 1
	expect 0 person show E1001 --json || return 1
	eq "$(json v.name)" "张伟"
	eq "$(json v.national_id)" "**************1234"
	eq "$(json v.state)" "candidate"
	expect 1 appointment add E1001 P-100 || return 1
	has_err "review_missing"
	review_ok E1001 secret || return 1
	expect 0 appointment add E1001 P-100 || return 1
	expect 0 person list --unit HQ --category key --json || return 1
	eq "$(json v.length)" 1
	eq "$(json 'v[0].id')" E1001
	eq "$(json 'v[0].compartments.join()')" "ALPHA,BRAVO"
	expect 0 person find --national-id 110101199003071234 || return 1
	has_out E1001
	expect 0 export persons || return 1
	has_out "E1001,张伟,HQ-R"
}

t_levels_by_name_in_both_languages_and_number() {
	setup_org || return 1
	expect 0 post add P-A --unit HQ --level 机密 || return 1
	expect 0 post add P-B --unit HQ --level S || return 1
	expect 0 post add P-C --unit HQ --level 2 || return 1
	expect 0 post list --json || return 1
	eq "$(json 'v.filter(p=>p.code.startsWith("P-")&&p.code.length==3).map(p=>p.level).join()')" "secret,secret,secret"
	expect 65 post add P-D --unit HQ --level cosmic || return 1
	has_err "level"
}

t_sensitive_fields_never_in_clear_unless_revealed() {
	setup_org || return 1
	expect 0 person add E1 --name "Li Lei" --unit HQ-R --national-id 110101199003071234 --passport E12345678 || return 1
	expect 0 person list --json || return 1
	lacks_out 110101199003071234
	expect 0 person show E1 --reveal --json || return 1
	eq "$(json v.national_id)" 110101199003071234
	expect 0 audit log --action person.reveal --json || return 1
	eq "$(json 'v[0].subjects[0]')" E1
	lacks_out 110101199003071234
	expect 0 audit log --json || return 1
	lacks_out 110101199003071234
	lacks_out E12345678
	if command -v sqlite3 >/dev/null; then
		! sqlite3 test.db .dump | grep -q 110101199003071234 || fail "national id in clear in the database"
	fi
}

t_sealed_value_moved_to_another_row_fails() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ --national-id 111 || return 1
	expect 0 person add E2 --name B --unit HQ --national-id 222 || return 1
	sqlite3 test.db "UPDATE persons SET nid_ct=(SELECT nid_ct FROM persons WHERE ext_id='E1') WHERE ext_id='E2'" || return 1
	expect 1 person show E2 || return 1
	has_err "tamper"
}

t_unicode_names_round_trip() {
	setup_org || return 1
	expect 0 person add U1 --name "Zoë Ørsted-Ñúñez 😀" --unit HQ || return 1
	expect 0 person add U2 --name "欧阳·娜娜" --unit HQ || return 1
	expect 0 person show U1 --json || return 1
	eq "$(json v.name)" "Zoë Ørsted-Ñúñez 😀"
	expect 65 person add U3 --name "$(printf 'bad\x01name')" --unit HQ || return 1
	has_err "control"
	expect 65 person add U4 --name "$(printf '\xff\xfe')" --unit HQ || return 1
	has_err "UTF-8"
	# a right-to-left override would make the name read other than it is
	expect 65 person add U6 --name "$(printf 'Li \xe2\x80\xaeaN')" --unit HQ || return 1
	has_err "name"
	expect 65 suspend U1 --reason "$(printf 'ok \xe2\x81\xa6x\xe2\x81\xa9')" || return 1
	has_err "reason"
	expect 65 person add U5 --name "$(head -c 300 /dev/zero | tr '\0' x)" --unit HQ || return 1
	has_err "longer"
}

t_bad_registry_input_names_the_field() {
	setup_org || return 1
	expect 65 unit add "bad code" --name X || return 1
	has_err "code"
	expect 65 unit add X1 || return 1
	has_err "name: required"
	expect 65 unit add X2 --name X --parent NOPE || return 1
	has_err "parent"
	expect 1 unit add HQ --name Again || return 1
	has_err "already exists"
	expect 65 person add E9 --name X --unit NOPE || return 1
	has_err "unit"
	expect 65 post add P-9 --unit HQ --level 2 --compartments "A B!" || return 1
	has_err "compartments"
	expect 1 person show NOBODY || return 1
	has_err "not found"
}

t_category_derived_from_open_appointments() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	review_ok E1 top_secret || return 1
	expect 0 appointment add E1 P-300 || return 1
	expect 0 appointment add E1 P-200 || return 1
	expect 0 person show E1 --json || return 1
	eq "$(json v.category)" core
	id=$(json 'v.appointments.find(a=>a.post=="P-200").id')
	expect 1 appointment add E1 P-200 || return 1
	has_err "already holds"
	expect 0 appointment end E1 "$id" || return 1
	expect 0 person show E1 --json || return 1
	eq "$(json v.category)" general
}

t_subtree_listing() {
	setup_org || return 1
	expect 0 unit add HQ-R-1 --name Lab --parent HQ-R || return 1
	expect 0 person add A --name A --unit HQ-R-1 || return 1
	expect 0 person add B --name B --unit HQ-A || return 1
	expect 0 person list --unit HQ-R --json || return 1
	eq "$(json 'v.map(p=>p.id).join()')" A
	expect 0 person list --unit HQ --json || return 1
	eq "$(json v.length)" 2
	expect 1 person list --unit NOPE || return 1
}

t_demo_builds_an_organisation() {
	expect 0 init || return 1
	expect 0 demo --json || return 1
	[ "$(json v.persons)" -ge 500 ] || fail "persons"
	[ "$(json v.units)" -ge 5 ] || fail "units"
	[ "$(json v.posts)" -ge 20 ] || fail "posts"
	[ "$(json 'Object.keys(v.by_category.core).length')" -ge 1 ] || fail "no core personnel"
	expect 0 audit verify || return 1
}

# The demo is one transaction: when a step fails half-way (here person
# E1005 already exists, so the fifth person cannot be added), nothing of it
# is written.  It used to leave the units, posts and first four persons,
# and a second demo then stopped at "unit HQ already exists".
t_demo_that_fails_half_way_writes_nothing() {
	expect 0 init || return 1
	expect 0 unit add ZZ --name "Elsewhere" || return 1
	expect 0 person add E1005 --name "Already here" --unit ZZ || return 1
	expect 0 audit verify || return 1
	local before=$OUT
	expect 1 demo --persons 20 || return 1
	has_err "E1005"
	expect 0 unit list --json || return 1
	eq "$(json v.length)" 1 "units left by a failed demo"
	expect 0 person list --json || return 1
	eq "$(json 'v.map(p => p.id).join()')" "E1005" "persons left by a failed demo"
	expect 0 audit verify || return 1
	eq "$OUT" "$before" "audit events left by a failed demo"
}

# The demo's count and seed are an int and a 32-bit number: a larger value
# typed is refused, never cut to its low bits (4294967297 persons built one
# and said so; a seed of 2^32 was the default seed).
t_demo_refuses_counts_it_cannot_hold() {
	expect 0 init || return 1
	expect 2 demo --persons 4294967297 || return 1
	has_err "--persons"
	expect 2 demo --persons 2147483648 || return 1
	expect 2 demo --seed 4294967296 || return 1
	has_err "--seed"
	expect 0 person list --json || return 1
	eq "$(json v.length)" 0 "a refused demo built persons"
}

t_find_by_document_number_in_any_format() {
	setup_org || return 1
	# People write an id in groups, with spaces or hyphens, and the check
	# digit X in either case: each spelling is the same number.
	expect 0 person add E1 --name A --unit HQ --national-id "110101-19900307-123x" || return 1
	expect 0 person add E2 --name B --unit HQ --passport "e 1234-5678" || return 1
	# A Chinese input method in its fullwidth mode types ０-９, Ｘ/ｘ, the
	# fullwidth hyphen and the ideographic space: the same number again.
	for v in 11010119900307123X "110101 19900307 123x" 110101-19900307-123X \
		"１１０１０１－１９９００３０７　１２３ｘ" "１１０１０１１９９００３０７１２３Ｘ"; do
		expect 0 person find --national-id "$v" --json || return 1
		eq "$(json 'v.map(p=>p.id).join()')" E1 "find --national-id '$v'"
	done
	expect 0 person find --passport E12345678 --json || return 1
	eq "$(json 'v.map(p=>p.id).join()')" E2
	# the same number typed fullwidth is the same number: a second person is refused
	expect 1 person add E3 --name C --unit HQ --passport "Ｅ１２３４５６７８" || return 1
	has_err "another person already holds this number"
	# other wide characters are still no digits
	expect 65 person find --national-id "110101一九九〇" || return 1
	expect 0 person show E1 --reveal --json || return 1
	eq "$(json v.national_id)" 11010119900307123X
}

# A national id or passport number belongs to one person: entering a
# suspended person again under a new employee number must not give them a
# fresh record.  Refused in person add and in import (naming the line and
# the field, not who holds it); the same row imported again is unchanged.
t_one_person_per_document_number() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ --national-id 11010119900307123X || return 1
	expect 0 person add E9 --name Z --unit HQ --passport E12345678 || return 1
	expect 1 person add E2 --name B --unit HQ --national-id "110101 19900307 123x" || return 1
	case "$ERR" in *"national_id: another person already holds this number"*) ;; *) fail "reason: $ERR" ;; esac
	case "$ERR" in *E1*) fail "names the holder: $ERR" ;; esac
	expect 1 person add E2 --name B --unit HQ --passport e12345678 || return 1
	case "$ERR" in *"passport: another person"*) ;; *) fail "reason: $ERR" ;; esac
	expect 1 person add E1 --name A --unit HQ --national-id 11010119900307123X || return 1
	case "$ERR" in *"person E1 already exists"*) ;; *) fail "same id reads as the id: $ERR" ;; esac
	printf 'id,name,unit,national_id\nE3,C,HQ,110105198001010011\nE4,D,HQ,11010119900307123x\nE5,E,HQ,110105198001010011\n' >dup.csv
	expect 65 import persons dup.csv || return 1
	case "$ERR" in *"line 3, column national_id"*) ;; *) fail "line 3 not named: $ERR" ;; esac
	case "$ERR" in *"line 4, column national_id"*) ;; *) fail "line 4 not named: $ERR" ;; esac
	expect 0 person list --json || return 1
	eq "$(json 'v.length')" 2 "nothing imported"
	printf 'id,name,unit,national_id\nE1,A,HQ,11010119900307123X\nE3,C,HQ,110105198001010011\n' >ok.csv
	expect 0 import persons ok.csv || return 1
	expect 0 import persons ok.csv || return 1
	case "$OUT" in *"2 unchanged"*) ;; *) fail "re-import: $OUT" ;; esac
}

# A search by national id or passport is audited like a reveal: who looked,
# whom it found, by which field; never the number itself.
t_person_find_is_audited() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ --national-id 11010119900307123X || return 1
	expect 0 person find --national-id 11010119900307123X || return 1
	expect 0 person find --passport X0000001 || return 1
	expect 0 audit log --action person.find --json || return 1
	eq "$(json 'v.length')" 2
	eq "$(json 'JSON.stringify(v.map(e => [e.subjects, e.fields.by, e.fields.matches]))')" \
		'[[["E1"],"national_id",1],[[],"passport",0]]'
	case "$OUT" in *11010119900307123X*|*X0000001*) fail "the number reached the audit trail" ;; esac
	expect 0 audit verify || return 1
}

# A database written before document numbers were unique may hold one
# number twice: the upgrade cannot add the unique index, and must say which
# records clash (the console's operator resolves them with the baomi that
# wrote the database), and change nothing.
t_upgrade_names_records_sharing_a_number() {
	command -v sqlite3 >/dev/null || return 0
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ --national-id 110101199003071234 || return 1
	expect 0 person add E2 --name B --unit HQ --national-id 110101199003075678 || return 1
	expect 0 person add E3 --name C --unit HQ || return 1
	sqlite3 test.db "DROP INDEX persons_nid16; DROP INDEX persons_pp16;
		CREATE INDEX persons_nid ON persons(nid_idx); CREATE INDEX persons_pp ON persons(pp_idx);
		UPDATE persons SET nid_idx = (SELECT nid_idx FROM persons WHERE ext_id = 'E1'),
			nid_ct = (SELECT nid_ct FROM persons WHERE ext_id = 'E1') WHERE ext_id = 'E2';
		ALTER TABLE accounts DROP COLUMN must_change; PRAGMA user_version = 4;" || return 1
	expect 1 person list || return 1
	has_err "schema step 5"
	has_err "persons E1, E2 share a national id"
	case "$ERR" in *E3*) fail "names a person who shares nothing: $ERR" ;; esac
	eq "$(sqlite3 test.db 'PRAGMA user_version')" 4 "the failed step changed the schema"
}

# The person list lines its columns up by the columns a name takes in a
# terminal: a name typed decomposed (e + U+0301, as a Mac keyboard sends
# it), one with a zero-width space, a Chinese one and an emoji one each
# end where the UNIT column starts, two blanks after the longest name.
t_person_table_columns_line_up() {
	setup_org || return 1
	expect 0 person add E1 --name "$(printf 'Jos\xc3\xa9')" --unit HQ || return 1
	expect 0 person add E2 --name "$(printf 'Jose\xcc\x81')" --unit HQ || return 1
	expect 0 person add E3 --name "$(printf 'Jo\xe2\x80\x8bse')" --unit HQ || return 1
	expect 0 person add E4 --name "张伟" --unit HQ || return 1
	expect 0 person add E5 --name "$(printf 'W\xf0\x9f\x94\x92n')" --unit HQ || return 1
	expect 0 person list || return 1
	# Every row's name cell, from after the id to the unit, is the name
	# padded to the 4 columns of the widest name and two blanks.
	local want
	want=$(printf 'E1  Jos\xc3\xa9  HQ\nE2  Jose\xcc\x81  HQ\nE3  Jo\xe2\x80\x8bse  HQ\nE4  张伟  HQ\nE5  W\xf0\x9f\x94\x92n  HQ')
	eq "$(printf '%s\n' "$OUT" | grep '^E' | sed 's/  HQ .*/  HQ/')" "$want"
}

# The console is the local user whatever --as names (an officer's account
# too): unit list is every unit, and its help says so rather than promise
# an officer's subtree, which only the HTTP API's sessions have.
t_registry_console_unit_list_is_every_unit() {
	setup_org || return 1
	expect 0 account add olga --roles officer --scope HQ-R || return 1
	expect 0 --as olga unit list || return 1
	has_out "HQ-A"
	expect 0 unit --help || return 1
	has_out "list every unit"
	lacks_out "officer"
}
