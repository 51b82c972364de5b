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
