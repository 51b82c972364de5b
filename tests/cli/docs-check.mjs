// Compares `baomi help` with docs/baomi.1 and the sources; prints one line per
// disagreement (none when they agree).  Used by test_docs.sh.
//   node docs-check.mjs BAOMI ROOT
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const [bin, root] = process.argv.slice(2);
const help = (...a) => execFileSync(bin, ['help', ...a], { encoding: 'utf8' });
const read = (p) => readFileSync(`${root}/${p}`, 'utf8');
const problems = [];

// The man page as plain text: fonts dropped, \- and \(en as -, spaces squeezed.
const man = read('docs/baomi.1').replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-')
  .replace(/\\\(en/g, '-').replace(/[ \t]+/g, ' ');
const section = (name) => (man.split(/^\.SH /m).find((s) => s.startsWith(name)) ?? '');

const top = help();
const nouns = [...top.matchAll(/^  ([a-z]+) {2,}/gm)].map((m) => m[1]);
if (nouns.length < 10) problems.push(`baomi help lists only ${nouns.length} nouns`);

// Every usage line of `baomi help NOUN` is in the man page, verbatim; the man
// page may join verbs as "import units|posts FILE".
const usages = [];
for (const n of nouns)
  for (const m of help(n).matchAll(/^ {2}baomi (.*?) *$/gm)) usages.push(m[1]);
const manLines = man.split('\n').filter((l) => l.startsWith('.B '))
  .flatMap((l) => l.slice(3).split(/, (?=[a-z]+ )/))
  .flatMap((l) => {
    const w = l.split(' ');
    return w.length > 1 && w[1].includes('|') ? w[1].split('|').map((v) => [w[0], v, ...w.slice(2)].join(' ')) : [l];
  }).map((l) => l.trim());
for (const u of usages)
  if (!manLines.some((l) => l === u || l.startsWith(u + ' ')))
    problems.push(`help usage not in baomi.1: ${u}`);

// Every command of the man page's COMMANDS section is a noun (and verb) of help.
for (const l of section('COMMANDS').split('\n').filter((x) => x.startsWith('.B ')))
  for (const cmd of l.slice(3).split(/, (?=[a-z]+[ \n]|[a-z]+$)/)) {
    const [noun, verb] = cmd.trim().split(' ');
    if (['help', 'version', 'baomi'].includes(noun) || !/^[a-z]+$/.test(noun)) continue;
    if (!nouns.includes(noun)) { problems.push(`baomi.1 names a command help does not know: ${noun}`); continue; }
    const verbs = help(noun);
    if (verb && /^[a-z|]+$/.test(verb) && !verbs.includes(`baomi ${noun} ${verb.split('|')[0]}`) &&
        !verbs.includes(`baomi ${noun} ${verb.toUpperCase()}`) && !verbs.match(new RegExp(`baomi ${noun} [A-Z]`)))
      problems.push(`baomi.1 names a verb help does not know: ${noun} ${verb}`);
  }

// The global options of the usage line and the exit codes agree with the man page.
for (const m of top.split('\n')[0].matchAll(/\[(--[a-z-]+)/g))
  if (!section('GLOBAL OPTIONS').includes(`.BI ${m[1]} `) && !section('GLOBAL OPTIONS').includes(`.B ${m[1]}`))
    problems.push(`global option not in baomi.1 GLOBAL OPTIONS: ${m[1]}`);
const codes = (s) => [...s.matchAll(/(?:^|[ ,:\n])(\d{1,3}) [a-zA-Z]/g)].map((m) => m[1]).sort().join(' ');
const helpCodes = codes(top.slice(top.indexOf('exit codes:')));
const manCodes = [...section('EXIT STATUS').matchAll(/^\.B (\d+)$/gm)].map((m) => m[1]).sort().join(' ');
if (helpCodes !== manCodes) problems.push(`exit codes: help says ${helpCodes}, baomi.1 says ${manCodes}`);

// Every exit code the code can give (the err.c table, and CLI_EXIT_DENY) is in
// the man page's EXIT STATUS, and the man page lists no other.
const srcCodes = new Set([...read('src/lib/err.c').matchAll(/\{BM_[A-Z]+, "[a-z_]+", (\d+)\}/g)]
  .map((m) => m[1]));
const deny = read('src/cli/cli.h').match(/#define CLI_EXIT_DENY (\d+)/);
if (srcCodes.size < 5 || !deny) problems.push('could not read the exit codes of src/lib/err.c and src/cli/cli.h');
else srcCodes.add(deny[1]);
const srcList = [...srcCodes].sort().join(' ');
if (srcList !== manCodes) problems.push(`exit codes: the sources give ${srcList}, baomi.1 says ${manCodes}`);

// Every option a verb parses (struct opt tables in src/cli) and every global
// option is in some help usage line, and every BAOMI_* variable is in ENVIRONMENT.
const cli = readdirSync(`${root}/src/cli`).filter((f) => f.endsWith('.c')).map((f) => read(`src/cli/${f}`)).join('\n');
const opts = new Set();
for (const t of cli.matchAll(/struct opt \w+\[\] = \{([^;]*)\};/g))
  for (const m of t[1].matchAll(/\{"([a-z-]+)",/g)) opts.add(m[1]);
for (const m of cli.matchAll(/strcmp\(a, "--([a-z-]+)"\)/g)) if (m[1] !== 'help') opts.add(m[1]);
if (opts.size < 20) problems.push(`found only ${opts.size} options in src/cli`);
const allUsage = top.split('\n')[0] + '\n' + usages.join('\n');
for (const o of opts)
  if (!allUsage.includes(`--${o}`)) problems.push(`option --${o} is parsed but not in baomi help`);
const src = ['cli', 'http', 'service', 'store', 'core', 'lib'].flatMap((d) => readdirSync(`${root}/src/${d}`)
  .filter((f) => f.endsWith('.c')).map((f) => read(`src/${d}/${f}`))).join('\n');
for (const m of new Set([...src.matchAll(/getenv\("(BAOMI_[A-Z_]+)"\)/g)].map((x) => x[1])))
  if (!section('ENVIRONMENT').includes(`.B ${m}\n`)) problems.push(`${m} is read but not in baomi.1 ENVIRONMENT`);

// The reason codes of docs/ARCHITECTURE.md's table are those of core/gate.c's
// reason table, in its order (the order a tie of the compliance report takes),
// and every code the man page and openapi.yaml name is one of them.
const srcReasons = [...read('src/core/gate.c').matchAll(/\[REASON_[A-Z_]+\] = \{"([a-z_]+)"/g)].map((m) => m[1]);
const arch = read('docs/ARCHITECTURE.md');
const table = arch.slice(arch.indexOf('**Reason codes**'));
const docReasons = [...table.slice(0, table.indexOf('\n\n', table.indexOf('| code |'))).matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
if (srcReasons.length < 10) problems.push(`found only ${srcReasons.length} reason codes in src/core/gate.c`);
else if (docReasons.join(' ') !== srcReasons.join(' '))
  problems.push(`reason codes: gate.c has ${srcReasons.join(' ')}, ARCHITECTURE.md lists ${docReasons.join(' ')}`);
const tie = (text) => (text.replace(/\s+/g, ' ').match(/a tie in the order (?:of the reason table )?\(([a-z_, ]+)\)/) ?? [])[1];
for (const [name, text] of [['baomi.1', man], ['openapi.yaml', read('docs/openapi.yaml')]]) {
  const t = tie(text);
  if (!t) { problems.push(`${name} does not give the compliance report's tie order`); continue; }
  const named = t.split(/, */);
  if (named.join(' ') !== srcReasons.filter((r) => named.includes(r)).join(' ') || named.some((r) => !srcReasons.includes(r)))
    problems.push(`${name}: tie order ${t} is not the order of gate.c's reasons`);
}

for (const p of problems) console.log(p);
