# Command-line surface: help, usage errors, exit codes.

t_help_on_every_noun() {
	for n in init unit post person appointment import export policy audit demo; do
		expect 0 "$n" --help || return 1
		has_out "baomi $n"
	done
	expect 0 help || return 1
	has_out "exit codes"
}

t_usage_errors_exit_2() {
	expect 2 || return 1
	expect 2 frobnicate || return 1
	has_err unknown
	expect 2 person || return 1
	expect 2 person fly || return 1
	expect 2 unit add X --name Y --colour red || return 1
	has_err "--colour"
	expect 2 person show || return 1
	expect 2 import widgets x.csv || return 1
	expect 2 help frobnicate || return 1
	has_err "unknown command"
}

# baomi help NOUN prints usage lines a reader can paste: none ends in a space.
t_help_lines_have_no_trailing_space() {
	local n
	for n in $("$BAOMI" help | awk '/^  [a-z]+  /{print $1}'); do
		expect 0 help "$n" || return 1
		! printf '%s\n' "$OUT" | grep -q ' $' || fail "baomi help $n: a line ends in a space"
	done
}

t_missing_database_is_reported() {
	expect 66 person list || return 1
	has_err "not found"
}

t_db_from_env_and_option() {
	BAOMI_DB=other.db expect 0 init || return 1
	[ -f other.db ] || fail "BAOMI_DB ignored"
	expect 0 --db third.db init || return 1
	[ -f third.db ] || fail "--db ignored"
	expect 0 unit list --db=third.db || return 1
}

# Account names are unique whatever their case: "SecAdmin" beside
# "secadmin" would read as the security administrator in the audit trail.
t_account_names_unique_whatever_the_case() {
	expect 0 init || return 1
	expect 1 account add SecAdmin || return 1
	case "$ERR" in *"differs only in case"*) ;; *) fail "no reason given: $ERR" ;; esac
	expect 0 account add bob || return 1
	expect 1 account add BOB || return 1
	expect 0 account list --json || return 1
	eq "$(json 'v.filter(a => a.name.toLowerCase() === "bob" || a.name.toLowerCase() === "secadmin").length')" 2
}

# A bad date or duration names the option it came from, as every other bad
# value does ("start: ...", "name: required").
t_bad_dates_and_durations_name_their_option() {
	setup_org || return 1
	expect 0 person add E1 --name A --unit HQ-A || return 1
	expect 65 appointment add E1 P-300 --start 2026-1-1 || return 1
	has_err "start: expected a date"
	expect 65 appointment add E1 P-300 --start 2026-13-01 || return 1
	has_err "start: month 13 out of range"
	expect 65 audit log --since yesterday || return 1
	has_err "since: expected a date"
	expect 65 due --within 5x || return 1
	has_err "within: unknown unit"
	expect 65 due --within soon || return 1
	has_err "within: expected a number"
}

# init --passwords: the officers' own passwords from the file are never
# echoed (a terminal or a CI log keeps them); the random ones, which exist
# nowhere else, are shown once.  A bad line names the file's line.
t_init_passwords_file_is_not_echoed() {
	printf 'secadmin:my-own-secret-42\n# a comment\n\nauditor:another-secret-43\n' >pw
	expect 0 init --passwords pw || return 1
	case "$OUT" in *my-own-secret-42*|*another-secret-43*) fail "a given password was printed" ;; esac
	has_out "(from the passwords file)"
	printf 'sysadmin:ok-password-long\nroot:x\n' >bad
	expect 65 --db other.db init --passwords bad || return 1
	has_err "line 2"
	expect 66 --db third.db init --passwords nope || return 1
}
