# Positional arguments and options as the console reads them: a bad
# positional is named as the man page names it (REVIEW, not a --review
# option that does not exist), a missing one shows the usage line, a value
# option given twice is refused rather than settled by the last, and a
# list's --limit 0 is refused rather than read as "all".

t_args_positionals_named_as_in_the_man_page() {
	setup_org || return 1
	local cmd
	for cmd in "review show abc:REVIEW" "review show -5:REVIEW" "review approve x --reason r:REVIEW" \
		"review show 99999999999999999999:REVIEW" "review finding 1 x clear:ITEM" \
		"appointment end E1 abc:APPOINTMENT-ID"; do
		# shellcheck disable=SC2086
		expect 2 ${cmd%%:*} || return 1
		has_err "${cmd##*:}: \""
		printf '%s' "$ERR" | grep -q -- "--review\|--item\|--appointment" &&
			fail "$cmd names an option that does not exist: $ERR"
	done
	has_err "is not an integer from 0 to 9223372036854775807"
	expect 1 review show 9223372036854775807 || return 1
	has_err "not found"
}

t_args_missing_and_extra_positionals() {
	setup_org || return 1
	expect 2 review finding 1 || return 1
	has_err "baomi review finding REVIEW ITEM clear|concern|disqualifying"
	expect 2 status || return 1
	has_err "baomi status PERSON"
	expect 2 review show 1 2 || return 1
	has_err 'unexpected argument "2"'
	expect 2 unit show HQ HQ-R || return 1
}

t_args_an_option_given_twice_is_refused() {
	setup_org || return 1
	expect 2 person list --limit 5 --limit 500 || return 1
	has_err "--limit given twice"
	expect 2 person list --unit=HQ --unit HQ-R || return 1
	has_err "--unit given twice"
	expect 2 unit add X --name A --name B || return 1
	expect 1 unit show X || return 1
	expect 2 --db a.db --db=b.db unit list || return 1
	has_err "--db given twice"
	expect 2 --as alice unit list --as bob || return 1
	has_err "--as given twice"
	expect 2 unit list --key k1 --key k2 || return 1
	# a flag twice is the same flag
	expect 0 --json unit list --json || return 1
	eq "$(json v.length)" 3
}

t_args_limit_zero_is_refused_not_all() {
	setup_org || return 1
	expect 0 person add E1 --name One --unit HQ || return 1
	expect 0 person add E2 --name Two --unit HQ || return 1
	local cmd
	for cmd in "person list" "audit log" "review list"; do
		# shellcheck disable=SC2086
		expect 2 $cmd --limit 0 || return 1
		has_err '--limit: "0" is not an integer from 1'
		# shellcheck disable=SC2086
		expect 2 $cmd --limit -1 || return 1
		# shellcheck disable=SC2086
		expect 2 $cmd --limit 99999999999999999999 || return 1
	done
	expect 0 person list --limit 1 --json || return 1
	eq "$(json v.length)" 1
	expect 0 person list --json || return 1
	eq "$(json v.length)" 2
}

# serve --threads 65 served with 64 and said nothing; a number outside
# 0..64 is refused before anything starts.
t_args_serve_threads_out_of_range_refused() {
	setup_org || return 1
	local n
	for n in 65 1000000; do
		expect 2 serve --listen 127.0.0.1:0 --threads "$n" || return 1
		has_err "--threads: 0 (one per core) to 64"
	done
	expect 2 serve --listen 127.0.0.1:0 --threads -1 || return 1
	has_err "--threads"
	for n in 17 -1 abc ""; do
		expect 2 serve --listen 127.0.0.1:0 --work-threads "$n" || return 1
		has_err "--work-threads"
	done
	expect 2 serve --listen 127.0.0.1:0 --work-threads 17 || return 1
	has_err "--work-threads: 0 (4) to 16"
}

# The lists of every_list_takes_limit, each with two items or more once
# limit_lists_setup has run.
LIMIT_LISTS=("unit list" "post list" "post list --unit HQ-R" "account list"
	"due --within 10y" "matter list E1" "policy versions" "person list"
	"audit log" "review list")

# Two active persons, two matters filed about E1, two policy versions.
limit_lists_setup() {
	setup_org || return 1
	for p in E1 E2; do
		expect 0 person add "$p" --name "$p" --unit HQ-R || return 1
		BAOMI_NOW=2026-01-01 review_ok "$p" secret || return 1
		expect 0 appointment add "$p" P-100 || return 1
		expect 0 activate "$p" || return 1
	done
	expect 0 matter file E1 other --detail one || return 1
	expect 0 matter file E1 other --detail two || return 1
	expect 0 policy show --json || return 1
	printf '%s' "$OUT" >p.json
	expect 0 policy load p.json || return 1
}

# Every console list takes --limit as person list does: the list's first N
# in its order, --limit 0 refused; without it the list is whole.  matter
# list and policy versions printed everything, whatever was asked.
t_args_every_list_takes_limit() {
	limit_lists_setup || return 1
	local cmd whole
	for cmd in "${LIMIT_LISTS[@]}"; do
		[ "$cmd" = "review list" ] && continue  # its order and --after: review tests
		# shellcheck disable=SC2086
		expect 0 $cmd --json || return 1
		whole=$OUT
		case $cmd in due*) OUT=$(OUT=$whole json v.items) ;; matter*) OUT=$(OUT=$whole json v.matters) ;; esac
		[ "$(json v.length)" -ge 2 ] || fail "$cmd lists fewer than 2: $OUT"
		# shellcheck disable=SC2086
		expect 0 $cmd --limit 1 --json || return 1
		case $cmd in
		due*) OUT=$(json v.items); whole=$(OUT=$whole json v.items) ;;
		matter*) OUT=$(json v.matters); whole=$(OUT=$whole json v.matters) ;;
		esac
		eq "$(json v.length)" 1 "$cmd --limit 1"
		eq "$(json 'v[0]')" "$(OUT=$whole json 'v[0]')" "$cmd --limit 1 keeps the first"
		# shellcheck disable=SC2086
		expect 2 $cmd --limit 0 || return 1
		has_err '--limit: "0" is not an integer from 1'
		# shellcheck disable=SC2086
		expect 2 $cmd --limit 1 --limit 2 || return 1
		has_err "--limit given twice"
	done
	expect 0 unit list --limit 2 || return 1
	has_out "HQ-R"; lacks_out "HQ-A"
	expect 0 matter list E1 --limit 1 || return 1
	has_out "one"; lacks_out "two"
}

# A bad --limit is refused by every list alike (exit 2), naming --limit:
# zero, a sign, text, nothing, and a number over 9223372036854775807; a
# large one within range is the whole list, as the man page says.
t_args_every_list_refuses_a_bad_limit() {
	limit_lists_setup || return 1
	local cmd v
	for cmd in "${LIMIT_LISTS[@]}"; do
		for v in 0 -1 abc "" 1x 99999999999999999999; do
			# shellcheck disable=SC2086
			expect 2 $cmd --limit "$v" || return 1
			has_err "--limit: \"$v\" is not an integer from 1 to 9223372036854775807"
		done
		# shellcheck disable=SC2086
		expect 0 $cmd --limit 10001 || return 1
	done
}

# A cut due list says so, and only when it is cut: the items and the open
# reviews are each read one past the page.
t_args_due_limit_says_when_cut() {
	setup_org || return 1
	for p in E1 E2; do
		expect 0 person add "$p" --name "$p" --unit HQ-R || return 1
		BAOMI_NOW=2026-01-01 review_ok "$p" secret || return 1
		expect 0 appointment add "$p" P-100 || return 1
		expect 0 activate "$p" || return 1
		expect 0 review open "$p" --level secret || return 1
	done
	expect 0 due --within 10y --json || return 1
	eq "$(json v.items.length)/$(json v.open_reviews.length)" "2/2" "the whole due list"
	expect 0 due --within 10y --limit 1 || return 1
	has_out "1 open review(s) shown, more in baomi review list"
	has_out "more items fall due within 10y than --limit 1 shows"
	expect 0 due --within 10y --limit 2 || return 1
	has_out "; 2 open review(s)"
	lacks_out "shown, more"
	lacks_out "more items fall due"
}

# Every console list says when --limit cut it, as due does, and only then:
# the service reads one row past the page, so a list of exactly N under
# --limit N is whole and says nothing, and under --limit N-1 says so.
t_args_every_list_says_when_cut() {
	limit_lists_setup || return 1
	local cmd what n
	for cmd in "unit list:units" "post list:posts" "post list --unit HQ-R:posts" \
		"account list:accounts" "matter list E1:matters" "policy versions:policy versions" \
		"person list:persons" "audit log --action unit.add:events" "review list --state all:reviews"; do
		what=${cmd##*:}
		cmd=${cmd%:*}
		# shellcheck disable=SC2086
		expect 0 $cmd --json || return 1
		case $cmd in matter*) n=$(json v.matters.length) ;; *) n=$(json v.length) ;; esac
		[ "$n" -ge 2 ] || fail "$cmd lists fewer than 2: $OUT"
		# shellcheck disable=SC2086
		expect 0 $cmd --limit "$n" || return 1
		lacks_out "than --limit"
		# shellcheck disable=SC2086
		expect 0 $cmd --limit "$((n - 1))" || return 1
		has_out "more $what than --limit $((n - 1)) shows"
		# shellcheck disable=SC2086
		expect 0 $cmd --limit "$((n - 1))" --json || return 1
		lacks_out "than --limit"
	done
}
