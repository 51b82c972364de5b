# Vetting through the CLI: reviews, gating, activation, status, decisions,
# matters, suspension, due list and compliance report.

t_review_gates_the_post_and_decisions_follow() {
	setup_org || return 1
	expect 0 person add E1 --name "李娜" --unit HQ-R || return 1
	expect 1 appointment add E1 P-100 || return 1
	has_err "review_missing"
	expect 0 review open E1 --level secret --json || return 1
	rid=$(json v.id)
	expect 1 review approve "$rid" --reason "mine" || return 1
	has_err "may not decide"
	expect 1 --as rev-a review approve "$rid" --reason ok || return 1
	has_err "no finding"
	expect 2 review finding || return 1
	expect 65 review finding "$rid" 9 clear || return 1
	for i in 1 2 3 4 5 6; do expect 0 review finding "$rid" "$i" clear || return 1; done
	expect 0 --as rev-a review approve "$rid" --reason ok --json || return 1
	eq "$(json v.state)" approved
	# the person's trail holds the whole review, findings included
	expect 0 audit log --subject E1 --action review.finding --json || return 1
	eq "$(json v.length)" 6
	expect 0 appointment add E1 P-100 || return 1
	expect 0 activate E1 || return 1
	expect 0 status E1 --json || return 1
	eq "$(json v.cleared)" true
	eq "$(json 'v.gates[0].message.zh.length > 0')" true
	local until
	until=$(json v.valid_until)
	expect 0 status E1 || return 1
	has_out "CLEARED until $until"; has_out "在岗"; has_out "满足"
	has_out "next due: review on $until"
	expect 0 decide E1 read secret --compartments ALPHA --json || return 1
	eq "$(json v.allow)" true
	# a denial exits 3, so that `baomi decide ... && grant` never grants
	expect 3 decide E1 read top_secret --compartments ALPHA,ZULU || return 1
	has_out "deny"; has_out "level_too_low"; has_out "need_to_know"
	[ -z "$ERR" ] || fail "a denial is not an error: stderr has ${ERR:0:200}"
	expect 3 decide E1 read top_secret --json || return 1
	eq "$(json v.allow)" false
	expect 3 decide NOBODY read secret || return 1
	has_out "unknown_person"
	# blanks around codes are the shell user's, not part of a code
	expect 0 decide E1 read secret --compartments "ALPHA, BRAVO" --json || return 1
	eq "$(json v.allow)" true
	# a long list is never cut short (cutting ZULU off would allow)
	local list
	list="$(printf 'ALPHA,%.0s' $(seq 42)),,,ZULU"
	run decide E1 read secret --compartments "$list"
	lacks_out "allow"
	[ "$RC" -eq 65 ] || { [ "$RC" -eq 3 ] && has_out "need_to_know"; }
}

t_matter_suspends_and_reinstate_restores() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	review_ok E1 secret || return 1
	expect 0 appointment add E1 P-100 || return 1
	expect 0 activate E1 || return 1
	expect 65 matter file E1 gossip || return 1
	expect 0 matter file E1 leak --detail "usb" --json || return 1
	eq "$(json v.action)" suspend
	expect 3 decide E1 read secret || return 1
	has_out "suspended"
	expect 2 reinstate E1 --reason || return 1
	expect 0 reinstate E1 --reason "cleared" || return 1
	expect 0 decide E1 read secret --json || return 1
	eq "$(json v.allow)" true
	expect 0 audit log --json || return 1
	has_out "person.suspend"; has_out "matter.file"
}

t_due_opens_rereviews_and_report_counts() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	BAOMI_NOW=2026-01-01 review_ok E1 secret || return 1
	expect 0 appointment add E1 P-100 || return 1
	expect 0 activate E1 || return 1
	BAOMI_NOW=2028-11-15 expect 0 due --within 60d --json || return 1
	eq "$(json v.opened.length)" 1
	eq "$(json 'v.items[0].gate')" review
	expect 0 report compliance --unit HQ --json || return 1
	eq "$(json 'v.units[0].unit')" HQ-R
	expect 1 report compliance --unit NOPE || return 1
	has_err "NOPE"
}

# Accounts linked to one person are one decider, also on the console's --as.
t_one_person_decides_once_under_any_account() {
	setup_org || return 1
	for p in E1 E2; do expect 0 person add "$p" --name "$p" --unit HQ-R || return 1; done
	expect 0 account add tw-a --roles reviewer --person E9 || return 1
	expect 0 account add tw-b --roles reviewer --person E9 || return 1
	expect 0 account add self-r --roles reviewer --person E2 || return 1
	expect 0 account add self-s --roles secadmin --person E2 || return 1
	expect 0 review open E1 --level top_secret --json || return 1
	rid=$(json v.id)
	for i in 1 2 3 4 5 6; do expect 0 review finding "$rid" "$i" clear || return 1; done
	expect 0 --as tw-a review approve "$rid" --reason ok --json || return 1
	eq "$(json v.state)" open
	expect 1 --as tw-b review approve "$rid" --reason "me again" || return 1
	has_err "same person as tw-a"
	expect 1 review finding "$rid" 3 concern --note "debts" || return 1
	has_err "already decided on by tw-a"
	expect 0 review show "$rid" --json || return 1
	eq "$(json v.approvals.length)" 1
	eq "$(json v.state)" open
	expect 0 review open E2 --level secret --json || return 1
	rid=$(json v.id)
	expect 1 --as self-r review finding "$rid" 1 clear || return 1
	has_err "own review"
	expect 0 review show "$rid" --json || return 1
	eq "$(json v.items.length)" 0
	expect 0 suspend E2 --reason inquiry || return 1
	expect 1 --as self-s reinstate E2 --reason "fine" || return 1
	has_err "own suspension"
	expect 65 reinstate E2 --reason "　" || return 1
	expect 0 reinstate E2 --reason "inquiry closed" || return 1
}

# Two runs opening due re-reviews at once (the server's maintenance and a
# console `due`) both succeed, and no person gets two open reviews.
t_due_runs_at_once_open_each_rereview_once() {
	expect 0 init || return 1
	expect 0 demo --persons 100 || return 1
	local pa pb
	BAOMI_NOW=2031-01-01 "$BAOMI" due --json >a.out 2>a.err &
	pa=$!
	BAOMI_NOW=2031-01-01 "$BAOMI" due --json >b.out 2>b.err &
	pb=$!
	wait "$pa" || fail "first due failed: $(cat a.err)" || return 1
	wait "$pb" || fail "second due failed: $(cat b.err)" || return 1
	# the same list, a page of two at a time with --after
	expect 0 review list --json || return 1
	local all paged="" after=0 page
	all=$(json 'v.map(r => r.id).join(",")')
	while :; do
		expect 0 review list --limit 2 --after "$after" --json || return 1
		page=$(json 'v.map(r => r.id).join(",")')
		[ -n "$page" ] || break
		paged=${paged:+$paged,}$page
		after=${page##*,}
	done
	eq "$paged" "$all" "pages of two"
	expect 2 review list --after -1 || return 1
	expect 0 review list --json || return 1
	eq "$(json 'v.filter(r => r.state === "open").length')" \
		"$(json 'new Set(v.filter(r => r.state === "open").map(r => r.person)).size')"
	eq "$(json 'v.filter(r => r.trigger === "rereview").length > 0')" true
}

# A person who is leaving, in decontamination or released has given up
# secret-related work: no new secret-related post, whatever their old
# review says; a post of level 0 is still open to them.
t_no_secret_post_after_leaving() {
	expect 0 init || return 1
	expect 0 demo --persons 60 || return 1
	expect 0 person list --json || return 1
	local who st list=$OUT
	for st in leaving decontamination released; do
		who=$(OUT=$list json "v.filter(p => p.state === '$st').map(p => p.id)[0] || ''")
		[ -n "$who" ] || return $(fail "the demo has no person in state $st")
		expect 1 appointment add "$who" P-102 || return 1
		has_err "$st" || return 1
		expect 1 appointment add "$who" P-101 || return 1
	done
	expect 0 post add P-0 --unit HQ --level 0 || return 1
	expect 0 appointment add "$who" P-0 || return 1
	# what they report is still recorded, though no re-review is opened
	for st in leaving decontamination released; do
		who=$(OUT=$list json "v.filter(p => p.state === '$st').map(p => p.id)[0] || ''")
		expect 0 matter file "$who" foreign_marriage --detail "met abroad" --json || return 1
		eq "$(json v.review)" null || return 1
		expect 0 matter file "$who" leak --detail "usb" --json || return 1
		expect 0 matter list "$who" --json || return 1
		eq "$(json v.matters.length)" 2 || return 1
	done
}

# The man page: a record not found exits 1.  The matters of an unknown person
# are not an empty list (the HTTP API answers 404 for them).
t_matter_list_of_unknown_person_is_not_found() {
	setup_org || return 1
	expect 1 matter list NOPE || return 1
	has_err "person NOPE not found"
	expect 1 matter list NOPE --json || return 1
	lacks_out "matters"
}

# review approve --version N decides on the version of the review the
# reviewer read: a finding changed since makes it refuse, and nothing changes.
t_review_verdict_on_the_version_read() {
	setup_org || return 1
	expect 0 person add E1 --name "李娜" --unit HQ-R || return 1
	expect 0 review open E1 --level secret --json || return 1
	local rid ver
	rid=$(json v.id)
	for i in 1 2 3 4 5 6; do expect 0 review finding "$rid" "$i" clear || return 1; done
	expect 0 review show "$rid" --json || return 1
	ver=$(json v.version)
	expect 0 review finding "$rid" 4 concern --note "new debts" || return 1
	expect 1 --as rev-a review approve "$rid" --reason ok --version "$ver" || return 1
	has_err "version"
	expect 0 review show "$rid" --json || return 1
	eq "$(json v.state)" open
	for bad in 0 -1 " $ver" "+$ver" x; do
		expect 2 --as rev-a review approve "$rid" --reason ok --version "$bad" || return 1
		has_err "--version"
	done
	expect 2 review list --limit " 5" || return 1
	expect 0 review show "$rid" --json || return 1
	ver=$(json v.version)
	expect 0 --as rev-a review approve "$rid" --reason weighed --version "$ver" --json || return 1
	eq "$(json v.state)" approved
}

# A database of schema 6 (before persons.state_since) opens and upgrades: a
# person whose state was set before keeps an unknown since (null, never a
# guess, not even from the appointment written since), and the next change
# of state dates itself.
t_upgrade_from_schema_6_dates_states_from_then_on() {
	command -v sqlite3 >/dev/null || return 0
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	BAOMI_NOW=2026-01-01 review_ok E1 secret || return 1
	sqlite3 test.db "ALTER TABLE persons DROP COLUMN on_post_since;
		ALTER TABLE persons DROP COLUMN state_since; PRAGMA user_version = 6;" || return 1
	BAOMI_NOW=2026-01-02 expect 0 appointment add E1 P-100 || return 1
	eq "$(sqlite3 test.db 'PRAGMA user_version')" 8
	BAOMI_NOW=2026-02-01 expect 0 status E1 --json || return 1
	eq "$(json v.state)" onboarding
	eq "$(json 'v.gates.find(g => g.gate === "on_post").code')" not_on_post
	eq "$(json 'v.gates.find(g => g.gate === "on_post").since')" null
	BAOMI_NOW=2026-02-02 expect 0 activate E1 || return 1
	BAOMI_NOW=2026-02-03 expect 0 suspend E1 --reason inquiry || return 1
	BAOMI_NOW=2026-02-04 expect 0 reinstate E1 --reason closed || return 1
	eq "$(sqlite3 test.db "SELECT state_since FROM persons WHERE ext_id = 'E1'")" 1770163200
	BAOMI_NOW=2026-02-05 expect 0 status E1 --json || return 1
	eq "$(json v.cleared)" true
	# on post since taken up (after the upgrade), not since the appointment's
	# date, and the reinstatement did not restart it
	eq "$(json 'v.gates.find(g => g.gate === "on_post").since')" 2026-02-02T00:00:00Z
	eq "$(json 'v.gates.find(g => g.gate === "not_suspended").since')" 2026-02-04T00:00:00Z
}

# A database of schema 7 (before persons.on_post_since) upgrades: an active
# person never suspended took up the post when they entered active (their
# state_since), so on_post says so; a person whose state went through a
# suspension took it up at an instant the rows do not keep: unknown (null).
t_upgrade_from_schema_7_dates_taking_up_the_post() {
	command -v sqlite3 >/dev/null || return 0
	setup_org || return 1
	local p
	for p in E1 E2; do
		expect 0 person add $p --name A --unit HQ-R || return 1
		BAOMI_NOW=2026-01-01 review_ok $p secret || return 1
		BAOMI_NOW=2026-01-02 expect 0 appointment add $p P-100 || return 1
		BAOMI_NOW=2026-01-05T10:00:00Z expect 0 activate $p || return 1
	done
	BAOMI_NOW=2026-01-06 expect 0 suspend E2 --reason inquiry || return 1
	BAOMI_NOW=2026-01-07 expect 0 reinstate E2 --reason closed || return 1
	sqlite3 test.db "ALTER TABLE persons DROP COLUMN on_post_since; PRAGMA user_version = 7;" ||
		return 1
	BAOMI_NOW=2026-02-01 expect 0 status E1 --json || return 1
	eq "$(sqlite3 test.db 'PRAGMA user_version')" 8
	eq "$(json 'v.gates.find(g => g.gate === "on_post").since')" 2026-01-05T10:00:00Z
	BAOMI_NOW=2026-02-01 expect 0 status E2 --json || return 1
	eq "$(json 'v.gates.find(g => g.gate === "on_post").since')" null
	eq "$(json 'v.gates.find(g => g.gate === "not_suspended").since')" 2026-01-07T00:00:00Z
}

# rejected_then_since PERSON LEVEL AT DAY WANT: a review of PERSON opened
# and rejected by rev-a at AT; the status on DAY names each gate as
# gate=code@since (WANT) and no overall valid_until.
rejected_then_since() {
	local rid
	expect 0 review open "$1" --level "$2" --json || return 1
	rid=$(json v.id)
	BAOMI_NOW=$3 expect 0 --as rev-a review reject "$rid" --reason no || return 1
	BAOMI_NOW=$4 expect 0 status "$1" --json || return 1
	eq "$(json 'v.gates.map(g => g.gate + "=" + g.code + "@" + g.since).join(" ")')" "$5"
	eq "$(json v.valid_until)" null
}

# Each gate's since is when its outcome began, as an officer reads it
# (ARCHITECTURE.md "Since and valid_until", baomi(1) status): the review
# since its final approval (the second approver's, for core), on_post since
# the post was taken up (not the appointment's midnight), not_suspended
# since the record began and then since the reinstatement; a failing
# review since the rejection, secret_post since the last secret post ended.
t_status_since_is_when_each_outcome_began() {
	setup_org || return 1
	BAOMI_NOW=2026-03-01T08:00:00Z expect 0 person add E1 --name A --unit HQ-R || return 1
	BAOMI_NOW=2026-03-01T08:00:00Z expect 0 person add E2 --name B --unit HQ-R || return 1
	expect 0 review open E1 --level top_secret --json || return 1
	local rid
	rid=$(json v.id)
	for i in 1 2 3 4 5 6; do
		expect 0 review finding "$rid" "$i" clear || return 1
	done
	BAOMI_NOW=2026-03-02T09:00:00Z expect 0 --as rev-a review approve "$rid" --reason ok ||
		return 1
	BAOMI_NOW=2026-03-03T11:00:00Z expect 0 --as rev-b review approve "$rid" --reason concur ||
		return 1
	BAOMI_NOW=2026-03-04T09:30:00Z expect 0 appointment add E1 P-200 || return 1
	BAOMI_NOW=2026-03-04T14:15:00Z expect 0 activate E1 || return 1
	BAOMI_NOW=2026-03-05 expect 0 status E1 --json || return 1
	eq "$(json v.cleared)" true
	eq "$(json 'v.gates.map(g => g.gate + "=" + g.since).join(" ")')" \
		"review=2026-03-03T11:00:00Z not_suspended=2026-03-01T08:00:00Z on_post=2026-03-04T14:15:00Z"
	eq "$(json 'v.gates.find(g => g.gate === "review").valid_until')" "$(json v.valid_until)"
	BAOMI_NOW=2026-04-01T10:00:00Z expect 0 suspend E1 --reason inquiry || return 1
	BAOMI_NOW=2026-04-02T16:00:00Z expect 0 reinstate E1 --reason closed || return 1
	BAOMI_NOW=2026-04-03 expect 0 status E1 --json || return 1
	eq "$(json 'v.gates.map(g => g.gate + "=" + g.since).join(" ")')" \
		"review=2026-03-03T11:00:00Z not_suspended=2026-04-02T16:00:00Z on_post=2026-03-04T14:15:00Z"
	# the text form names them too
	BAOMI_NOW=2026-04-03 expect 0 status E1 || return 1
	has_out "2026-04-02T16:00:00Z"
	# a re-review rejected: the review is missing since the rejection
	rejected_then_since E1 top_secret 2026-04-05T12:00:00Z 2026-04-06 \
		"review=review_missing@2026-04-05T12:00:00Z not_suspended=ok@2026-04-02T16:00:00Z on_post=ok@2026-03-04T14:15:00Z" ||
		return 1
	# no secret post: since the record began (or the last one ended)
	rejected_then_since E2 secret 2026-03-06T12:00:00Z 2026-03-07 \
		"not_suspended=ok@2026-03-01T08:00:00Z secret_post=no_secret_post@2026-03-01T08:00:00Z"
}

# --as names what is written as a review's opener, a finding's recorder, an
# approver, a suspension's author: text the store reads back.  A name of
# invalid UTF-8 or with control characters was written, and every review
# list after it failed as a "damaged database" (the row reader refuses such
# text), so it is refused before anything is written.
t_as_name_is_text() {
	setup_org || return 1
	expect 0 person add E1 --name E1 --unit HQ-R || return 1
	expect 2 --as $'off\xff' review open E1 --level secret || return 1
	has_err "as"
	expect 2 --as $'off\tx' review open E1 --level secret || return 1
	expect 2 --as "=cmd" review open E1 --level secret || return 1
	expect 0 review list --state all --json || return 1
	eq "$(json v.length)" 0
	expect 0 --as "审查员-李" review open E1 --level secret --json || return 1
	expect 0 review list --json || return 1
	eq "$(json v[0].opened_by)" "审查员-李"
}

# Near the end of the calendar a re-review date is capped at the last instant
# a record holds (9999-12-31T23:59:59Z): an approval on 9999-01-01 stored
# decided_at + 5 years, which the store then refused to read back as
# damage, so the review list and status failed for good.  A matter's
# re-review deadline is capped the same way.
t_rereview_dates_stay_in_the_calendar() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	BAOMI_NOW=9999-01-01 review_ok E1 secret || return 1
	BAOMI_NOW=9999-01-01 expect 0 review list E1 --json || return 1
	eq "$(json 'v[0].valid_until')" "9999-12-31T23:59:59Z"
	expect 0 appointment add E1 P-100 || return 1
	BAOMI_NOW=9999-01-02 expect 0 activate E1 || return 1
	BAOMI_NOW=9999-12-01 expect 0 matter file E1 foreign_marriage --json || return 1
	BAOMI_NOW=9999-12-01 expect 0 status E1 --json || return 1
	eq "$(json v.cleared)" true
	BAOMI_NOW=9999-12-01 expect 0 review list E1 --state all --json || return 1
}

# The console's tables carry what issue 4 asks of status and the report,
# not only --json: the level beside the category, each gate's since, and
# per unit the persons by category and state and every common reason.
t_plain_status_and_report_show_every_field() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-R || return 1
	expect 0 person add E2 --name B --unit HQ-R || return 1
	BAOMI_NOW=2026-01-01T08:00:00Z review_ok E1 secret || return 1
	BAOMI_NOW=2026-01-02T09:00:00Z expect 0 appointment add E1 P-100 || return 1
	BAOMI_NOW=2026-01-02T09:00:00Z expect 0 activate E1 || return 1
	BAOMI_NOW=2026-02-01 expect 0 status E1 --json || return 1
	local review_since post_since
	review_since=$(json 'v.gates.find(g => g.gate === "review").since')
	post_since=$(json 'v.gates.find(g => g.gate === "on_post").since')
	BAOMI_NOW=2026-02-01 expect 0 status E1 || return 1
	has_out "key (secret)"
	has_out "SINCE"
	printf '%s\n' "$OUT" | grep -qE "^  review +ok +ok +$review_since +2028-12-31T08:00:00Z " ||
		fail "the review line lacks since $review_since: $OUT"
	printf '%s\n' "$OUT" | grep -qE "^  on_post +ok +ok +$post_since +- " ||
		fail "the on_post line lacks since $post_since: $OUT"
	BAOMI_NOW=2026-02-01 expect 0 report compliance --unit HQ || return 1
	printf '%s\n' "$OUT" | grep -qE '^HQ-R +2 +1 +1 +no_secret_post \(1\)$' ||
		fail "no HQ-R totals line: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^  none +candidate 1$' || fail "no none x state line: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^  key +active 1$' || fail "no key x state line: $OUT"
	printf '%s\n' "$OUT" | grep -qE '^  reasons +no_secret_post 1$' || fail "no reasons line: $OUT"
}
