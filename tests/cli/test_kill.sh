# A killed process leaves no half-written database (docs/OPERATIONS.md, "A
# killed process").  Every other kind of write is killed at random moments by
# tests/http/kill.mjs (kill.test.mjs in `make test`, `make killtest`).

# init_or_done: after a killed init, either the pair it made works, or a new
# init makes one: never a database that init refuses and nothing else opens.
init_or_done() {
	if "$BAOMI" audit verify >/dev/null 2>&1; then
		return 0
	fi
	expect 0 init || return 1
	expect 0 audit verify
}

t_init_killed_at_any_moment_leaves_a_pair_or_nothing() {
	for i in $(seq 1 12); do
		rm -f test.db test.db.key
		"$BAOMI" init >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		init_or_done || return 1
	done
}

# The one moment between publishing the key file and the database: the key
# file is then a link of the one init built; a new init starts over.  A key
# file init did not build is never replaced.
t_init_after_a_kill_between_key_and_database() {
	expect 0 init || return 1
	mv test.db other.db && mv test.db.key other.db.key
	printf 'not a key' >test.db.key.init
	ln test.db.key.init test.db.key
	expect 0 init || return 1
	expect 0 audit verify || return 1
	[ ! -e test.db.key.init ] || fail "init left its temporary key file"
	rm -f test.db test.db.key
	printf 'a key' >test.db.key
	expect 1 init || return 1
	has_err "key file"
	eq "$(cat test.db.key)" "a key" "a key file init did not make"
}

# An init killed after publishing both files leaves their temporary names
# linked to them; the next open removes them, so a key file whose database
# is later deleted is never taken for one init may replace.
t_init_leftover_links_go_at_the_next_open() {
	expect 0 init || return 1
	ln test.db test.db.init && ln test.db.key test.db.key.init
	expect 0 audit verify || return 1
	[ ! -e test.db.init ] && [ ! -e test.db.key.init ] || fail "init's temporary names are still there"
	cp test.db.key keep.key
	rm test.db
	expect 1 init || return 1
	has_err "key file"
	cmp -s test.db.key keep.key || fail "init replaced the key file of a deleted database"
}
