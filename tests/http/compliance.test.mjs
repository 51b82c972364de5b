// The due list and the compliance report against a second opinion that
// shares nothing with the C: the raw tables are read with the sqlite3
// command-line tool and the answers recomputed here in plain JS from the
// rules as ISSUE 4, DESIGN.md and ARCHITECTURE.md ("Vetting") state them.
// A varied organisation (the demo's persons in every state and category,
// reviews approved at many dates, expired, rejected and open, suspensions,
// matters with re-review deadlines, a deeper unit, a re-review rejected while
// on post, a policy that shortens an interval and changes the
// reminder offsets) is read at several instants, some on a deadline's very
// second, over the console (table and --json) and over HTTP, in time zones
// far from UTC, which must change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAOMI, call, spawnServer } from './lib.mjs';

const DAY = 86400;
const STATES = ['candidate', 'reviewing', 'onboarding', 'active', 'suspended', 'leaving',
  'decontamination', 'released', 'rejected'];                    // DESIGN.md §2, in order
const CATS = ['none', 'general', 'key', 'core'];
// The reason table of ARCHITECTURE.md, in its order: the report's ties.
const REASONS = ['unknown_person', 'no_secret_post', 'not_on_post', 'suspended', 'review_missing',
  'review_expired', 'review_level_too_low', 'gate_unavailable', 'clearance_lapsed'];
const T0 = Date.UTC(2026, 5, 1) / 1000;                        // the demo's "now"
const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

let dir, env;
const baomi = (args, more = {}) => execFileSync(BAOMI, args, { env: { ...env, ...more }, encoding: 'utf8' });
const sql = (q) => JSON.parse(execFileSync('sqlite3', ['-json', '-readonly', env.BAOMI_DB, q],
  { encoding: 'utf8' }) || '[]');

// ------------------------------------------------------------ the reference

// Everything the rules read, straight from the tables.
function tables() {
  const pol = sql('SELECT json FROM policies ORDER BY version DESC LIMIT 1')[0];
  const policy = pol ? JSON.parse(pol.json)
    : { reminder_days: [90, 60, 30, 7], categories: { core: { rereview_days: 365 },
      key: { rereview_days: 1095 }, general: { rereview_days: 1825 } } };
  return {
    policy,
    units: sql('SELECT id, code, parent_id FROM units'),
    persons: sql('SELECT id, ext_id, unit_id, state, level FROM persons'),
    reviews: sql('SELECT id, person_id, level, state, decided_at, valid_until FROM reviews'),
    susp: new Set(sql('SELECT person_id FROM suspensions WHERE lifted_at IS NULL').map((r) => r.person_id)),
  };
}

// Unit ids in the subtree of the unit with id root (all when root is null).
function subtree(T, root) {
  if (root == null) return new Set(T.units.map((u) => u.id));
  const out = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const u of T.units) if (!out.has(u.id) && out.has(u.parent_id)) { out.add(u.id); grew = true; }
  }
  return out;
}
const unitId = (T, code) => T.units.find((u) => u.code === code).id;

// The review in force: the latest decided one; its due instant is the
// earlier of its recorded date and approval + the interval of the category
// (`lv`) under the policy in force.
function inForce(T, p) {
  const dec = T.reviews.filter((r) => r.person_id === p.id && r.state > 0)
    .sort((a, b) => b.decided_at - a.decided_at || b.id - a.id);
  return dec[0];
}
function reviewDue(T, r, lv) {
  let due = r.valid_until ?? Infinity;
  const days = T.policy.categories[CATS[lv]]?.rereview_days ?? 0;
  if (days > 0) due = Math.min(due, r.decided_at + days * DAY);
  return due;
}

// The reasons person p is not cleared at now (an empty list: cleared).
function reasons(T, p, now) {
  const out = new Set();
  const suspended = T.susp.has(p.id) || STATES[p.state] === 'suspended';
  if (p.level === 0) {
    out.add('no_secret_post');
    if (suspended) out.add('suspended');
    return out;
  }
  if (!['active', 'suspended'].includes(STATES[p.state])) out.add('not_on_post');
  if (suspended) out.add('suspended');
  const r = inForce(T, p);
  if (!r || r.state !== 1) out.add('review_missing');
  else if (r.level < p.level) out.add('review_level_too_low');
  else if (now >= reviewDue(T, r, p.level)) out.add('review_expired');
  return out;
}

function refReport(T, now, root) {
  const within = subtree(T, root), by = new Map();
  for (const p of T.persons) {
    if (!within.has(p.unit_id)) continue;
    const code = T.units.find((u) => u.id === p.unit_id).code;
    if (!by.has(code)) by.set(code, { unit: code, persons: {}, cleared: 0, not_cleared: 0, rs: {} });
    const t = by.get(code), cat = CATS[p.level], st = STATES[p.state];
    t.persons[cat] ??= {};
    t.persons[cat][st] = (t.persons[cat][st] ?? 0) + 1;
    const rs = reasons(T, p, now);
    if (rs.size === 0) t.cleared++;
    else t.not_cleared++;
    for (const r of rs) t.rs[r] = (t.rs[r] ?? 0) + 1;
  }
  return [...by.values()].sort((a, b) => (a.unit < b.unit ? -1 : 1)).map((t) => ({
    unit: t.unit, persons: t.persons, damaged: 0, cleared: t.cleared, not_cleared: t.not_cleared,
    top_reasons: Object.entries(t.rs)
      .sort((a, b) => b[1] - a[1] || REASONS.indexOf(a[0]) - REASONS.indexOf(b[0]))
      .slice(0, 5).map(([code, count]) => ({ code, count })),
  }));
}

// The due list's items: the review of everyone on post or onboarding with a
// secret-related category, due within the window; days counted up (a part
// day is a day, so 0 or less exactly when overdue); the reminder reached is
// the smallest offset not below that count, none past every offset.
function refDue(T, now, within, root) {
  const scope = subtree(T, root), until = now + within, rem = T.policy.reminder_days;
  const items = [];
  for (const p of T.persons) {
    // level 0 (no secret post yet) too, at the review's level: the due run
    // opens their re-review (mustBeOpen), so the list names it
    if (!scope.has(p.unit_id) ||
        !['active', 'suspended', 'onboarding'].includes(STATES[p.state])) continue;
    const r = inForce(T, p);
    if (!r || r.state !== 1) continue;
    const due = reviewDue(T, r, p.level > 0 ? p.level : r.level);
    if (due === Infinity || due > until) continue;
    const days = Math.ceil((due - now) / DAY);
    const reached = rem.filter((d) => d >= days);
    items.push({ person: p.ext_id, gate: 'review', due: iso(due), days_left: days + 0,
      overdue: due <= now, reminder_days: due <= now ? 0 : reached.length ? Math.min(...reached) : null });
  }
  return items.sort((a, b) => (a.due < b.due ? -1 : a.due > b.due ? 1 : a.person < b.person ? -1 : 1));
}

// Open reviews in scope, as ids; and the persons whose re-review the due run
// must have opened (due within the largest reminder offset).
function refOpen(T, root) {
  const scope = subtree(T, root), unitOf = new Map(T.persons.map((p) => [p.id, p.unit_id]));
  return T.reviews.filter((r) => r.state === 0 && scope.has(unitOf.get(r.person_id)))
    .map((r) => r.id).sort((a, b) => a - b);
}
function mustBeOpen(T, now) {
  const horizon = now + Math.max(0, ...T.policy.reminder_days) * DAY;
  return T.persons.filter((p) => ['active', 'suspended', 'onboarding'].includes(STATES[p.state]))
    .filter((p) => {
      const r = inForce(T, p);
      return r && r.state === 1 && reviewDue(T, r, p.level > 0 ? p.level : r.level) <= horizon;
    });
}

// ---------------------------------------------------------------- the server

async function serve(now, tz) {
  const { proc, url } = await spawnServer(['--threads', '2'], { ...env, BAOMI_NOW: String(now), TZ: tz });
  for (let i = 0; i < 200 && (await fetch(url + '/readyz')).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 25));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const srv = { url, stop: async () => { proc.kill('SIGTERM'); return exited; } };
  const tok = async (name) => (await call(srv, 'POST', '/v1/login',
    { body: { name, password: `${name}-password-1` } })).json.token;
  srv.get = async (name, path) => call(srv, 'GET', path, { token: await tok(name) });
  return srv;
}

// --------------------------------------------------------- the organisation

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'baomi-comp-'));
  env = { ...process.env, BAOMI_DB: join(dir, 't.db'), BAOMI_NOW: String(T0), TZ: 'UTC' };
  baomi(['init']);
  baomi(['demo', '--persons', '240', '--seed', '7']);
  for (const [name, roles, scope] of [['rev-a', 'reviewer'], ['rev-b', 'reviewer'],
    ['sec2', 'secadmin'], ['aud2', 'auditor'], ['subsec', 'secadmin,officer', 'HQ-R'],
    ['off', 'officer', 'HQ-R'], ['tr', 'trainer']]) {
    writeFileSync(join(dir, name), `${name}-password-1\n`);
    baomi(['account', 'add', name, '--roles', roles, '--password-file', join(dir, name),
      ...(scope ? ['--scope', scope] : [])]);
  }
  // A fourth level under HQ-R1, with persons approved at odd seconds.
  baomi(['unit', 'add', 'HQ-R1-X', '--name', '密码组 Ü', '--parent', 'HQ-R1']);
  baomi(['post', 'add', 'PX-3', '--unit', 'HQ-R1-X', '--level', 'top_secret']);
  baomi(['post', 'add', 'PX-2', '--unit', 'HQ-R1-X', '--level', 'secret']);
  const approve = (id, level, at, two) => {
    const rid = JSON.parse(baomi(['--json', 'review', 'open', id, '--level', level], { BAOMI_NOW: String(at) })).id;
    for (let i = 1; i <= 6; i++) baomi(['review', 'finding', String(rid), String(i), 'clear'], { BAOMI_NOW: String(at) });
    baomi(['--as', 'rev-a', 'review', 'approve', String(rid), '--reason', 'ok'], { BAOMI_NOW: String(at) });
    if (two) baomi(['--as', 'rev-b', 'review', 'approve', String(rid), '--reason', 'ok'], { BAOMI_NOW: String(at) });
  };
  const onPost = (id, post, level, at, two) => {
    baomi(['person', 'add', id, '--name', `人员 ${id}`, '--unit', 'HQ-R1-X'], { BAOMI_NOW: String(at) });
    approve(id, level, at, two);
    baomi(['appointment', 'add', id, post], { BAOMI_NOW: String(at) });
    baomi(['activate', id], { BAOMI_NOW: String(at) });
  };
  onPost('X1', 'PX-3', 'top_secret', T0 - 300 * DAY + 37, true);          // core, due T0+65d+37s
  onPost('X2', 'PX-2', 'secret', T0 - 1000 * DAY - 3600, false);           // key, due T0+95d-1h
  onPost('X3', 'PX-2', 'secret', T0 - 10 * DAY + 43210, false);
  baomi(['matter', 'file', 'X3', 'foreign_funding', '--detail', 'grant'], { BAOMI_NOW: String(T0 - 5 * DAY + 7) });
  onPost('X4', 'PX-2', 'secret', T0 - 20 * DAY, false);
  const rid = JSON.parse(baomi(['--json', 'review', 'open', 'X4', '--level', 'secret'])).id;
  baomi(['--as', 'rev-a', 'review', 'reject', String(rid), '--reason', 'debts'], { BAOMI_NOW: String(T0 - 2 * DAY + 5) });
  onPost('X5', 'PX-2', 'secret', T0 - 50 * DAY, false);
  baomi(['suspend', 'X5', '--reason', 'inquiry'], { BAOMI_NOW: String(T0 - DAY) });
});

after(() => rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------ checks

// The console's and the server's answers at `now` equal the reference.
// The due list read seven items a page, each page's next_cursor asking for
// the next, and the open reviews continued in the review list from
// open_reviews_next_cursor: together, the one-page answer `whole`.
async function walkDue(srv, w, whole) {
  const first = await srv.get('sec2', `/v1/due?within=${w}&limit=7`);
  assert.equal(first.status, 200, first.text);
  let items = first.json.items, next = first.json.next_cursor, pages = 1;
  assert.ok(whole.items.length > 14, `too few due items (${whole.items.length}) to page`);
  while (next !== null) {
    const r = await srv.get('sec2', `/v1/due?within=${w}&limit=7&cursor=${next}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length >= 1 && r.json.items.length <= 7, r.text);
    assert.equal(r.json.open_reviews, undefined, 'open reviews on a later page');
    items = items.concat(r.json.items);
    next = r.json.next_cursor;
    assert.ok(++pages <= whole.items.length, 'the pages never end');
  }
  assert.deepEqual(items, whole.items, `due --within ${w} paged by 7`);
  let open = first.json.open_reviews, oc = first.json.open_reviews_next_cursor;
  assert.ok(open.length <= 7);
  while (oc !== null) {
    const r = await srv.get('sec2', `/v1/reviews?limit=7&cursor=${oc}`);
    assert.equal(r.status, 200, r.text);
    open = open.concat(r.json.items);
    oc = r.json.next_cursor;
  }
  assert.deepEqual(open.map((x) => x.id), whole.open_reviews.map((x) => x.id));
  // a cursor is this list's own: the review list's is refused here, and so is
  // one cut short; a limit outside 1..1000 names the field
  for (const [q, field] of [[`cursor=${first.json.open_reviews_next_cursor}`, 'cursor'],
    [`cursor=${first.json.next_cursor.slice(0, -2)}`, 'cursor'], ['cursor=', 'cursor'],
    ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=-1', 'limit'], ['limit=7x', 'limit']]) {
    const r = await srv.get('sec2', `/v1/due?within=${w}&${q}`);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.ok(JSON.stringify(r.json).includes(`"${field}"`), `${q} names ${field}: ${r.text}`);
  }
}

async function checkAt(now, { tzCli = 'Pacific/Kiritimati', tzSrv = 'America/St_Johns', withins = ['90d'], x1 } = {}) {
  const at = { BAOMI_NOW: String(now), TZ: tzCli };
  baomi(['due'], at);                        // opens what fell due, as the server would
  const T = tables();
  const must = mustBeOpen(T, now), open = new Set(T.reviews.filter((r) => r.state === 0).map((r) => r.person_id));
  assert.deepEqual(must.filter((p) => !open.has(p.id)).map((p) => p.ext_id), [], `re-reviews not opened at ${iso(now)}`);
  const hq = unitId(T, 'HQ-R');
  const srv = await serve(now, tzSrv);
  try {
    for (const w of withins) {
      const sec = { h: 3600, d: DAY, m: 30 * DAY, y: 365 * DAY }[w.at(-1)] * Number(w.slice(0, -1));
      const want = refDue(T, now, sec, null);
      const cli = JSON.parse(baomi(['--json', 'due', '--within', w], at));
      assert.deepEqual(cli.items, want, `console due --within ${w} at ${iso(now)}`);
      if (x1) assert.deepEqual(cli.items.filter((x) => x.person === 'X1').map((x) => [x.days_left, x.reminder_days]), [x1]);
      assert.deepEqual(cli.opened, []);
      assert.deepEqual(cli.open_reviews.map((r) => r.id), refOpen(T, null));
      const http = await srv.get('sec2', `/v1/due?within=${w}`);
      assert.equal(http.status, 200, http.text);
      delete cli.opened;
      assert.deepEqual(http.json, cli, `HTTP and console due --within ${w} at ${iso(now)}`);
      if (w === withins[0]) await walkDue(srv, w, cli);
      // the table: one line per item, the same persons, days and reminders
      const rows = baomi(['due', '--within', w], at).trim().split('\n').slice(2);
      assert.deepEqual(rows.map((l) => l.split(/\s+/)),
        want.map((x) => [x.person, x.gate, x.due, String(x.days_left), x.reminder_days == null ? '-' : String(x.reminder_days)]));
      const scoped = await srv.get('off', `/v1/due?within=${w}`);
      assert.deepEqual(scoped.json.items, refDue(T, now, sec, hq), `scoped due at ${iso(now)}`);
      assert.deepEqual(scoped.json.open_reviews.map((r) => r.id), refOpen(T, hq));
      const trainer = await srv.get('tr', `/v1/due?within=${w}`);
      assert.deepEqual(trainer.json.items, want);
      assert.deepEqual(trainer.json.open_reviews, []);
    }
    for (const [unit, root] of [[null, null], ['HQ', unitId(T, 'HQ')], ['HQ-R', hq], ['HQ-R1-X', unitId(T, 'HQ-R1-X')]]) {
      const want = refReport(T, now, root);
      const cli = JSON.parse(baomi(['--json', 'report', 'compliance', ...(unit ? ['--unit', unit] : [])], at));
      const strip = (v) => v.units.map((u) => ({ ...u, top_reasons: u.top_reasons.map(({ code, count }) => ({ code, count })) }));
      assert.deepEqual(strip(cli), want, `console report ${unit} at ${iso(now)}`);
      assert.equal(cli.unit, unit);
      assert.equal(cli.evaluated_at, iso(now));
      const http = await srv.get('aud2', `/v1/reports/compliance${unit ? `?unit=${unit}` : ''}`);
      assert.equal(http.status, 200, http.text);
      assert.deepEqual(http.json, cli, `HTTP and console report ${unit} at ${iso(now)}`);
      // the table: a line per unit with its totals, then indented lines of
      // its persons by category and state and its reasons, as --json has them
      const lines = baomi(['report', 'compliance', ...(unit ? ['--unit', unit] : [])], at).trim().split('\n').slice(1);
      const rows = lines.filter((l) => !l.startsWith(' '));
      assert.deepEqual(rows.map((l) => l.split(/\s+/).slice(0, 4)),
        want.map((u) => [u.unit, String(u.cleared + u.not_cleared), String(u.cleared), String(u.not_cleared)]));
      const parsed = [];
      for (const l of lines) {
        if (!l.startsWith(' ')) { parsed.push({ persons: {}, reasons: [] }); continue; }
        const [, label, rest] = l.trim().match(/^(\S+)\s+(.*)$/);
        const pairs = rest.split(', ').map((x) => x.split(' ')).map(([k, n]) => [k, Number(n)]);
        if (label === 'reasons') parsed.at(-1).reasons = pairs.map(([code, count]) => ({ code, count }));
        else parsed.at(-1).persons[label] = Object.fromEntries(pairs);
      }
      assert.deepEqual(parsed, want.map((u) => ({ persons: u.persons, reasons: u.top_reasons })),
        `console report table ${unit} at ${iso(now)}`);
    }
    // A scoped reader without a unit gets its subtree; a unit outside it is missing.
    const sub = await srv.get('subsec', '/v1/reports/compliance');
    assert.deepEqual(sub.json.units.map((u) => u.unit), refReport(T, now, hq).map((u) => u.unit));
    const out = await srv.get('subsec', '/v1/reports/compliance?unit=HQ');
    assert.equal(out.status, 404);
    assert.deepEqual(out.json.errors.map((x) => x.field), ['unit']);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
}

test('the due list and the report at the demo instant, and half a day and a second later', async () => {
  await checkAt(T0, { withins: ['90d', '0d', '1h', '36h', '100000d'] });
  await checkAt(T0 + 45 * DAY + 43200 + 1, { tzCli: 'America/St_Johns', tzSrv: 'Pacific/Kiritimati' });
});

test('on a deadline\'s second: the window and the reminder offsets', async () => {
  const T = tables();
  const dueX1 = reviewDue(T, inForce(T, T.persons.find((p) => p.ext_id === 'X1')), 3);
  // exactly 90 days before: inside within=90d, at the 90-day reminder
  await checkAt(dueX1 - 90 * DAY, { withins: ['90d', '2160h'], x1: [90, 90] });
  // a second before the 7-day mark the 30-day reminder; on it, the 7-day one
  await checkAt(dueX1 - 7 * DAY - 1, { x1: [8, 30] });
  await checkAt(dueX1 - 7 * DAY, { x1: [7, 7] });
  await checkAt(dueX1 - 1, { x1: [1, 7] });
  await checkAt(dueX1, { withins: ['0d', '90d'], x1: [0, 0] });
});

test('a policy that shortens an interval and moves the reminders', async () => {
  const pol = JSON.parse(baomi(['--json', 'policy', 'show']));
  const doc = pol.policy ?? pol;
  doc.categories.key.rereview_days = 700;
  doc.reminder_days = [45, 14, 1];
  writeFileSync(join(dir, 'p.json'), JSON.stringify(doc));
  baomi(['policy', 'load', join(dir, 'p.json')]);
  const T = tables();
  assert.deepEqual(T.policy.reminder_days, [45, 14, 1]);
  await checkAt(T0 + 20 * DAY, { withins: ['45d', '90d'] });
  await checkAt(T0 + 400 * DAY + 5);
});

test('bad windows and units are refused naming the field, over both adapters', async () => {
  const srv = await serve(T0, 'Pacific/Kiritimati');
  try {
    for (const w of ['90', '90x', '-1d', '1e3d', '', ' 90d', '90D', '0x10d', '99999999999999999999d']) {
      const r = await srv.get('sec2', `/v1/due?within=${encodeURIComponent(w)}`);
      assert.ok([400, 422].includes(r.status), `within=${w}: ${r.status}`);
      assert.deepEqual(r.json.errors.map((x) => x.field), ['within'], `within=${w}`);
      assert.throws(() => baomi(['due', '--within', w]), (e) => e.status === 65 && /within/.test(e.stderr), `--within ${w}`);
    }
    for (const u of ['NOPE', '研发部', 'hq', 'HQ ']) {
      const r = await srv.get('aud2', `/v1/reports/compliance?unit=${encodeURIComponent(u)}`);
      assert.equal(r.status, 404, `unit=${u}`);
      assert.deepEqual(r.json.errors.map((x) => x.field), ['unit']);
      assert.throws(() => baomi(['report', 'compliance', '--unit', u]), (e) => e.status === 1, `--unit ${u}`);
    }
    const empty = await srv.get('aud2', '/v1/reports/compliance?unit=');
    assert.ok([400, 404, 422].includes(empty.status));
    assert.deepEqual(empty.json.errors.map((x) => x.field), ['unit']);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});
