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
