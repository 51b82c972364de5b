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
	expect 0 appointment add E1 P-100 || return 1
	expect 0 activate E1 || return 1
	expect 0 status E1 --json || return 1
	eq "$(json v.cleared)" true
	eq "$(json 'v.gates[0].message.zh.length > 0')" true
	expect 0 decide E1 read secret --compartments ALPHA --json || return 1
	eq "$(json v.allow)" true
	expect 0 decide E1 read top_secret --compartments ALPHA,ZULU || return 1
	has_out "deny"; has_out "level_too_low"; has_out "need_to_know"
	expect 0 decide NOBODY read secret || return 1
	has_out "unknown_person"
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
	expect 0 decide E1 read secret || return 1
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
}
