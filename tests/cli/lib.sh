# tests/cli/lib.sh - a small harness for black-box tests of the baomi binary.
# Each test is a shell function named t_*; it runs in a fresh directory with
# BAOMI_DB set.  A test fails when it returns nonzero or when any assertion
# in it failed, even one whose status the function went on past (fail()
# leaves a mark in the test's directory): an `eq` without `|| return 1`
# still counts.
# Output is TAP-like: "ok N - name" / "not ok N - name" plus diagnostics.

: "${BAOMI:?set BAOMI to the baomi binary}"

fail() {
	echo "# FAIL: $*" >&2
	: >"$TMP/failed"
	return 1
}

# run CMD...: runs baomi, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$BAOMI" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
	return 0
}

# expect CODE CMD...: runs baomi and asserts its exit status.
expect() {
	local want=$1
	shift
	run "$@"
	[ "$RC" -eq "$want" ] || fail "baomi $* exited $RC, expected $want; stderr: $ERR; stdout: ${OUT:0:400}"
}

has_out() { printf '%s' "$OUT" | grep -qF -- "$1" || fail "stdout lacks '$1': ${OUT:0:600}"; }
has_err() { printf '%s' "$ERR" | grep -qF -- "$1" || fail "stderr lacks '$1': ${ERR:0:600}"; }
lacks_out() { ! printf '%s' "$OUT" | grep -qF -- "$1" || fail "stdout has '$1'"; }
eq() { [ "$1" = "$2" ] || fail "expected '$2', got '$1'${3:+ ($3)}"; }

# jq-free JSON access through node (always present for the HTTP tests).
json() { printf '%s' "$OUT" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);const r=(new Function("v","return "+process.argv[1]))(v);console.log(typeof r==="object"?JSON.stringify(r):String(r));})' "$1"; }

# A database with a small organisation: HQ > HQ-R, posts of each level.
setup_org() {
	expect 0 init || return 1
	expect 0 unit add HQ --name "Headquarters" || return 1
	expect 0 unit add HQ-R --name "Research" --parent HQ || return 1
	expect 0 unit add HQ-A --name "Admin" --parent HQ || return 1
	expect 0 post add P-100 --unit HQ-R --level secret --compartments ALPHA,BRAVO --title "Lab lead" || return 1
	expect 0 post add P-200 --unit HQ-R --level 绝密 --compartments ALPHA || return 1
	expect 0 post add P-300 --unit HQ-A --level 1 || return 1
}

# review_ok PERSON LEVEL: an approved review (two reviewers, so core passes
# too); the opener is the local user, the reviewers are named with --as.
review_ok() {
	local rid
	expect 0 review open "$1" --level "$2" --json || return 1
	rid=$(json v.id)
	for i in 1 2 3 4 5 6; do
		expect 0 review finding "$rid" "$i" clear || return 1
	done
	expect 0 --as rev-a review approve "$rid" --reason ok --json || return 1
	if [ "$(json v.state)" = open ]; then
		expect 0 --as rev-b review approve "$rid" --reason concur || return 1
	fi
}

audit_count() { "$BAOMI" audit verify --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).count))'; }

run_tests() {
	local n=0 failed=0 name
	for name in $(declare -F | awk '{print $3}' | grep '^t_' | sort); do
		[ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && continue
		n=$((n + 1))
		TMP=$(mktemp -d)
		if (cd "$TMP" && export BAOMI_DB="$TMP/test.db" && unset BAOMI_KEY && "$name") \
			2>"$TMP/diag" && [ ! -e "$TMP/failed" ]; then
			echo "ok $n - ${name#t_}"
		else
			echo "not ok $n - ${name#t_}"
			sed 's/^/#   /' "$TMP/diag" | head -n 20
			failed=$((failed + 1))
		fi
		rm -rf "$TMP"
	done
	return 0
}
