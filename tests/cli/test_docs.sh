# The documents against the binary: the man page names every verb and option
# that `baomi help` does (and nothing it does not), and the README's example
# runs as written.

docs_root() { (cd "$here/../.." && pwd); }

t_docs_man_page_matches_help() {
	local out
	out=$(node "$here/docs-check.mjs" "$BAOMI" "$(docs_root)" 2>&1) || { fail "docs-check: $out"; return 1; }
	[ -z "$out" ] || fail "baomi help and docs/baomi.1 disagree: $out"
}

# Runs the sh block under "## Using it" line by line, as a reader would,
# except the server; every line must succeed.
t_docs_readme_example_runs() {
	local line n=0
	mkdir bin && ln -s "$BAOMI" bin/baomi || return 1
	printf 'id,name,unit,national_id,passport\nE2001,李四,HQ-R,,\n' >persons.csv
	while IFS= read -r line; do
		case $line in '' | '#'* | 'baomi serve'*) continue ;; esac
		n=$((n + 1))
		PATH="$PWD/bin:$PATH" bash -c "$line" >out.txt 2>&1 ||
			fail "README line fails: $line: $(head -c 300 out.txt)"
	done < <(awk '/^## Using it/{u=1} u&&/^```sh/{b=1;next} b&&/^```/{exit} b' "$(docs_root)/README.md")
	[ "$n" -gt 20 ] || fail "found only $n lines in the README example"
}

# ARCHITECTURE.md's layers, as the sources include each other: each layer
# includes only the layers below it (cli, http, service, store, core, lib:
# `baomi serve` starts the server, so cli may include http, never the
# reverse), so core cannot grow I/O nor the service print.
t_docs_layers_point_down() {
	local src layer above bad
	src="$(docs_root)/src"
	for layer in lib core store service; do
		case $layer in
		lib) above='core|store|service|http|cli' ;;
		core) above='store|service|http|cli' ;;
		store) above='service|http|cli' ;;
		service) above='http|cli' ;;
		esac
		bad=$(grep -lE "#include \"\.\./($above)/" "$src/$layer"/*.[ch] 2>/dev/null)
		[ -z "$bad" ] || fail "$layer includes a layer above it: $bad"
	done
	bad=$(grep -lE '#include "\.\./cli/' "$src/http"/*.[ch] 2>/dev/null)
	[ -z "$bad" ] || fail "http includes cli: $bad"
}

# man_exit PHRASE: the exit code under whose entry of the man page's EXIT
# STATUS the phrase stands (fonts and \- dropped, lines joined), empty when
# none or more than one does.
man_exit() {
	node -e '
	const fs = require("fs");
	const man = fs.readFileSync(process.argv[1], "utf8").replace(/\\f[BIRP]/g, "").replace(/\\-/g, "-");
	const sec = man.split(/^\.SH /m).find((s) => s.startsWith("EXIT STATUS")) || "";
	const hits = sec.split(/^\.TP\n/m).slice(1).map((e) => e.match(/^\.B (\d+)\n([^]*)$/))
		.filter((m) => m && m[2].replace(/\s+/g, " ").includes(process.argv[2])).map((m) => m[1]);
	console.log(hits.length === 1 ? hits[0] : "");' "$(docs_root)/docs/baomi.1" "$1"
}

# documented PHRASE CMD...: baomi CMD exits with the code the man page's EXIT
# STATUS gives PHRASE.
documented() {
	local phrase=$1 want
	shift
	want=$(man_exit "$phrase")
	[ -n "$want" ] || { fail "baomi.1 EXIT STATUS has no one entry saying '$phrase'"; return 1; }
	expect "$want" "$@"
}

# The failures a newcomer meets, each with the exit code the man page lists
# for it: what a script around baomi branches on.
t_docs_exit_status_as_documented() {
	setup_org || return 1
	expect 0 person add E1 --name "王芳" --unit HQ-R || return 1
	documented 'unknown command' frob
	documented 'missing argument' unit add
	documented 'an extra argument' unit show HQ HQ-R
	documented 'an option given twice' person list --limit 5 --limit 500
	documented 'a number that is not one or is out of range' review show abc
	documented 'a number that is not one or is out of range' person list --limit 0
	documented 'not found' person show NOPE
	documented 'already present' unit add HQ --name again
	documented 'a state or permission refusal' activate E1
	documented 'decide answered deny' decide NOPE read secret
	documented 'names a unit, post or person that does not exist' unit add X --name x --parent NOPE
	documented 'a required option left out' unit add X --parent HQ
	documented 'a required option left out' post add P-9 --unit HQ
	documented 'a required option left out' review open E1 --level ''
	documented 'a required option left out' review open E1
	expect 0 review open E1 --level secret --json || return 1
	documented 'a required option left out' review finding "$(json v.id)" 3 concern
	documented 'a refused role grant' role grant auditor officer
	printf 'id,name,unit\nE9,=x,HQ\n' >bad.csv
	documented 'a CSV row' import persons bad.csv
	printf '{"bad": 1}\n' >bad.json
	documented 'a policy document' policy load bad.json
	documented 'input file does not exist' import persons none.csv
	documented 'the database, key file' --db none.db unit list
	# a rewritten event, as someone with the sqlite3 shell would
	sqlite3 "$BAOMI_DB" "DROP TRIGGER audit_no_update; UPDATE audit SET fields='{}' WHERE seq=3" ||
		return 1
	documented 'a broken audit chain' audit verify
}

# OPERATIONS.md "Backup and restore" and "Losing the key file", step by step:
# a copy made with sqlite3 .backup, restored in place of the database with its
# -wal and -shm removed, verifies with the head noted at backup time, and the
# head of a later write is no longer in the chain; without the key file the
# database does not open at all.
t_docs_backup_restore_as_operations_says() {
	local head1 head2
	setup_org || return 1
	sqlite3 "$BAOMI_DB" ".backup copy.db" || return 1
	cp "$BAOMI_DB.key" copy.db.key && chmod 600 copy.db.key || return 1
	expect 0 --db copy.db audit verify || return 1
	head1=${OUT##* }
	expect 0 unit add HQ-X --name "Later" --parent HQ || return 1
	expect 0 audit verify || return 1
	head2=${OUT##* }
	[ "$head1" != "$head2" ] || { fail "a write did not move the head"; return 1; }
	cp copy.db "$BAOMI_DB" && rm -f "$BAOMI_DB-wal" "$BAOMI_DB-shm" || return 1
	expect 0 audit verify || return 1
	eq "${OUT##* }" "$head1" "head after the restore"
	expect 0 --json audit log
	lacks_out "$head2"
	expect 1 unit show HQ-X
	mv "$BAOMI_DB.key" key.away || return 1
	expect 66 unit list
	has_err "key file"
	expect 66 person show E1
}
