# Key file and schema faults: refused with a clear error, never garbage.

t_missing_key_file() {
	expect 0 init || return 1
	mv test.db.key elsewhere.key
	expect 66 person list || return 1
	has_err "key file"
	has_err "not found"
	BAOMI_KEY=elsewhere.key expect 0 person list || return 1
	expect 0 --key elsewhere.key unit list || return 1
}

t_wrong_key_file() {
	expect 0 init || return 1
	expect 0 --db other.db init || return 1
	cp other.db.key test.db.key
	expect 1 unit list || return 1
	has_err "does not belong"
}

t_damaged_key_file() {
	expect 0 init || return 1
	printf 'garbage' | dd of=test.db.key bs=1 seek=20 conv=notrunc 2>/dev/null
	expect 1 unit list || return 1
	has_err "key file"
	head -c 10 test.db.key >k && cat k >test.db.key
	expect 1 unit list || return 1
	has_err "key file"
}

t_key_file_readable_by_others() {
	expect 0 init || return 1
	chmod 644 test.db.key
	expect 1 unit list || return 1
	has_err "chmod"
}

t_newer_schema_refused() {
	expect 0 init || return 1
	sqlite3 test.db "PRAGMA user_version=999" || return 1
	expect 1 unit list || return 1
	has_err "newer"
}

t_not_a_database() {
	expect 0 init || return 1
	head -c 8192 /dev/urandom >test.db
	run unit list
	[ "$RC" -ne 0 ] || fail "garbage database accepted"
	[ -n "$ERR" ] || fail "no message"
}
