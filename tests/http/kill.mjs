// The kill test: every kind of write, over the CLI and over HTTP, is killed
// with SIGKILL at a random moment, and a fresh process then checks that the
// database neither lies nor holds half a write (docs/OPERATIONS.md, "A killed
// process").  kill.test.mjs runs a few rounds inside `make test`;
// `make killtest` runs many: `node tests/http/kill.mjs [ROUNDS] [SEED]`.
//
// After every kind of write it checks, with new processes:
//  - PRAGMA integrity_check is ok and `baomi audit verify` exits 0;
//  - the records and the audit trail agree, one event per committed act
//    (INVARIANTS below: each row is {what, records, events});
//  - a record is whole: no approved initial review whose person is still
//    reviewing, no active person under a suspension, no person whose
//    category is not what their open appointments make it;
//  - denials audited by a batch come in whole batches.
// At the end of each phase a server started afterwards must answer /readyz
// and decide for every person what `baomi status` says (cleared or not).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BAOMI = process.env.BAOMI ?? fileURLToPath(new URL('../../build/baomi', import.meta.url));
const BATCH = 10000;

// One row per record kind: [what, SQL counting the records, SQL counting what
// the audit trail says was committed].  Each pair must be equal.
const added = (kind) => `coalesce((SELECT sum(json_extract(fields,'$.added')) FROM audit WHERE action='import.${kind}'),0)`;
const events = (...actions) => `(SELECT count(*) FROM audit WHERE action IN (${actions.map((a) => `'${a}'`).join(',')}))`;
const INVARIANTS = [
  ['persons', 'SELECT count(*) FROM persons', `${events('person.add')}+${added('persons')}`],
  ['units', 'SELECT count(*) FROM units', `${events('unit.add')}+${added('units')}`],
  ['posts', 'SELECT count(*) FROM posts', `${events('post.add')}+${added('posts')}`],
  ['appointments', 'SELECT count(*) FROM appointments', `${events('appointment.add')}+${added('appointments')}`],
  ['ended appointments', 'SELECT count(*) FROM appointments WHERE end_at IS NOT NULL',
    `${events('appointment.end')}+(SELECT count(*) FROM audit WHERE action='appointment.add' AND json_extract(fields,'$.end')!=0)`],
  ['reviews', 'SELECT count(*) FROM reviews', events('review.open')],
  ['review verdicts', 'SELECT count(*) FROM review_approvals', events('review.approve', 'review.reject')],
  ['decided reviews', 'SELECT count(*) FROM reviews WHERE state!=0',
    `(SELECT count(*) FROM audit WHERE action IN ('review.approve','review.reject') AND json_extract(fields,'$.final'))`],
  ['verdicts without their event', `SELECT count(*) FROM review_approvals v JOIN reviews r ON r.id=v.review_id
    WHERE NOT EXISTS (SELECT 1 FROM audit WHERE action IN ('review.approve','review.reject')
      AND json_extract(fields,'$.review')=v.review_id AND actor LIKE '%' || v.approver)`, '0'],
  ['findings without their event', `SELECT count(*) FROM review_items i WHERE NOT EXISTS (SELECT 1 FROM audit
    WHERE action='review.finding' AND json_extract(fields,'$.review')=i.review_id AND json_extract(fields,'$.item')=i.item)`, '0'],
  ['matters', 'SELECT count(*) FROM matters', events('matter.file')],
  ['suspensions', 'SELECT count(*) FROM suspensions', events('person.suspend')],
  ['lifted suspensions', 'SELECT count(*) FROM suspensions WHERE lifted_at IS NOT NULL',
    `coalesce((SELECT sum(json_extract(fields,'$.lifted')) FROM audit WHERE action='person.reinstate'),0)`],
  ['policies', 'SELECT count(*) FROM policies', `1+${events('policy.load')}`],
  ['accounts', 'SELECT count(*) FROM accounts', events('account.add')],
  ['sessions', 'SELECT count(*) FROM sessions', events('login')],
  ['active persons under a suspension', `SELECT count(*) FROM persons p WHERE state=3 AND EXISTS
    (SELECT 1 FROM suspensions s WHERE s.person_id=p.id AND s.lifted_at IS NULL)`, '0'],
  ['suspended persons without a suspension', `SELECT count(*) FROM persons p WHERE state=4 AND NOT EXISTS
    (SELECT 1 FROM suspensions s WHERE s.person_id=p.id AND s.lifted_at IS NULL)`, '0'],
  ['reviewing persons without an open review', `SELECT count(*) FROM persons p WHERE state=1 AND NOT EXISTS
    (SELECT 1 FROM reviews r WHERE r.person_id=p.id AND r.state=0)`, '0'],
  ['open initial reviews of persons not reviewing', `SELECT count(*) FROM reviews r JOIN persons p ON p.id=r.person_id
    WHERE r.state=0 AND r.trigger='initial' AND p.state!=1`, '0'],
  ['persons whose category is not their posts\'', `SELECT count(*) FROM persons p WHERE level != coalesce((SELECT max(po.level)
    FROM appointments a JOIN posts po ON po.id=a.post_id WHERE a.person_id=p.id AND a.end_at IS NULL),0)`, '0'],
  ['denials audited outside whole batches', `SELECT count(*) % ${BATCH} FROM audit WHERE action='decision.deny' AND actor='kdec'`, '0'],
];

const rnd = (() => {	// a seeded generator, so a failing run can be repeated
  let x = 0;
  const f = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
  f.seed = (s) => { x = (s >>> 0) || 1; };
  return f;
})();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class KillTest {
  constructor({ rounds = 3, seed = Date.now() % 1e9, log = () => {}, full = false } = {}) {
    this.rounds = rounds;
    this.seed = seed;
    this.log = log;
    this.full = full;	// the decision check after every kind, not every phase
    this.pool = rounds >= 5 ? 6 : 2;	// records made ready for one round of a kind
    this.scale = rounds >= 5 ? 1 : 0.4;	// of the imports' sizes
    this.problems = [];
    this.done = 0;	// writes answered 2xx before their server was killed
    this.quiet = new Set();
    this.acks = [];
    this.pws = new Map();	// account -> the password it holds now	// [table, column, id] of acknowledged creations	// kinds whose refusal was logged once
    this.kills = 0;
    this.dur = new Map();	// kind -> longest run that ended before its kill (ms)
    rnd.seed(seed);
    this.dir = mkdtempSync(join(tmpdir(), 'baomi-kill-'));
    this.db = join(this.dir, 't.db');
    this.env = { ...process.env, BAOMI_DB: this.db };
    delete this.env.BAOMI_NOW;
    delete this.env.BAOMI_KEY;
  }

  // Runs baomi to its end (a preparation step): {status, out, err}.
  cli(args, env = {}) {
    const r = spawnSync(BAOMI, args, { env: { ...this.env, ...env }, encoding: 'utf8', cwd: this.dir });
    return { status: r.status, out: r.stdout, err: r.stderr };
  }

  must(args, env) {
    const r = this.cli(args, env);
    if (r.status !== 0) throw new Error(`baomi ${args.join(' ')} exited ${r.status}: ${r.err}`);
    return r.out;
  }

  sql(q) {
    const r = spawnSync('sqlite3', ['-batch', this.db, q], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`sqlite3: ${r.error?.message ?? r.stderr}`);
    return r.stdout.trim();
  }

  file(name, text) {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  // Runs baomi and kills it with SIGKILL at a random moment of its run (up
  // to 200 ms, or up to a little past the longest run of its kind seen).
  attack(kind, args, env = {}) {
    const span = Math.min(200, 1.3 * (this.dur.get(kind) ?? 200));
    const delay = rnd() * span;
    return new Promise((resolve) => {
      const t0 = performance.now();
      const p = spawn(BAOMI, args, { env: { ...this.env, ...env }, cwd: this.dir, stdio: 'ignore' });
      const timer = setTimeout(() => { this.kills++; p.kill('SIGKILL'); }, delay);
      p.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (sig === null) this.dur.set(kind, Math.max(this.dur.get(kind) ?? 0, performance.now() - t0));
        resolve({ code, sig });
      });
    });
  }

  // Every check of a database left by a killed process, in fresh processes.
  check(label) {
    const bad = (what) => { this.problems.push(`${label}: ${what}`); this.log(`PROBLEM ${label}: ${what}`); };
    const v = this.cli(['audit', 'verify']);
    if (v.status !== 0) bad(`audit verify exited ${v.status}: ${v.err}${v.out}`);
    const ic = this.sql('PRAGMA integrity_check');
    if (ic !== 'ok') bad(`integrity_check: ${ic}`);
    const q = INVARIANTS.map(([w, a, b]) => `SELECT '${w.replaceAll("'", "''")}', (${a}), (${b})`).join(' UNION ALL ');
    for (const line of this.sql(q).split('\n')) {
      const [w, a, b] = line.split('|');
      if (a !== b) bad(`${w}: ${a} records, ${b} by the audit trail`);
    }
    for (const [table, column, id] of this.acks.splice(0)) {
      if (this.sql(`SELECT count(*) FROM ${table} WHERE ${column}='${id}'`) !== '1') bad(`${table} ${id} was acknowledged and is lost`);
    }
  }

  // ------------------------------------------------------------ set-up

  setup() {
    this.pw = this.file('pw', 'sysadmin:sysadmin-password-1\nsecadmin:secadmin-password-1\nauditor:auditor-password-1\n');
    this.must(['init', '--passwords', this.pw]);
    this.must(['demo', '--persons', '40']);
    this.unit = 'HQ-R';
    this.must(['post', 'add', 'K-0', '--unit', this.unit, '--level', '0', '--title', 'Kill zero']);
    this.must(['post', 'add', 'K-3', '--unit', this.unit, '--level', '3', '--compartments', 'ALPHA', '--title', 'Kill core']);
    this.pwfile = this.file('pwf', 'kill-password-123456\n');
    this.pwfile2 = this.file('pwf2', 'kill-password-654321\n');
    for (const [name, roles] of [['rev1', 'reviewer'], ['rev2', 'reviewer'], ['kdec', 'officer'], ['off1', 'officer'], ['pwc', 'officer']])
      this.must(['account', 'add', name, '--roles', roles, '--password-file', this.pwfile]);
    this.policy = JSON.parse(this.must(['--json', 'policy', 'show']));
    delete this.policy.version;
    this.seq = 0;
    this.check('set-up');
  }

  id(prefix) { return `${prefix}${++this.seq}`; }

  // A candidate person, added whole.
  person() {
    const id = this.id('KP');
    this.must(['person', 'add', id, '--name', `Kill ${id}`, '--unit', this.unit]);
    return id;
  }

  // An open core review of a new person; its id.
  reviewOpen(person = this.person()) {
    return { person, id: JSON.parse(this.must(['--json', 'review', 'open', person, '--level', '3'])).id };
  }

  reviewReady() {
    const r = this.reviewOpen();
    for (let i = 1; i <= 6; i++) this.must(['review', 'finding', String(r.id), String(i), 'clear']);
    return r;
  }

  reviewed() {
    const r = this.reviewReady();
    this.must(['--as', 'rev1', 'review', 'approve', String(r.id), '--reason', 'ok']);
    this.must(['--as', 'rev2', 'review', 'approve', String(r.id), '--reason', 'concur']);
    return r.person;
  }

  appointed() {
    const p = this.reviewed();
    const a = JSON.parse(this.must(['--json', 'appointment', 'add', p, 'K-3']));
    return { person: p, appt: a.id };
  }

  active() {
    const a = this.appointed();
    this.must(['activate', a.person]);
    return a.person;
  }

  policyFile(change) {
    const p = structuredClone(this.policy);
    change(p);
    return this.file(`policy-${++this.seq}.json`, JSON.stringify(p));
  }

  csv(kind, size) {
    const n = this.id('I'), rows = Math.ceil(size * this.scale);
    let s;
    if (kind === 'units') s = 'code,name,parent\n' + Array.from({ length: rows }, (_, i) => `${n}U${i},Unit ${i},HQ\n`).join('');
    if (kind === 'posts') s = 'code,unit,level,title\n' + Array.from({ length: rows }, (_, i) => `${n}P${i},HQ-R,1,Post ${i}\n`).join('');
    if (kind === 'persons') s = 'id,name,unit\n' + Array.from({ length: rows }, (_, i) => `${n}E${i},Name ${i},HQ-R\n`).join('');
    if (kind === 'appointments') {
      const people = this.csv('persons', rows);
      this.must(['import', 'persons', people.path]);
      s = 'person,post\n' + people.ids.map((p) => `${p},K-0\n`).join('');
    }
    const ids = kind === 'persons' ? Array.from({ length: rows }, (_, i) => `${n}E${i}`) : [];
    return { path: this.file(`${n}.csv`, s), ids };
  }

  // ------------------------------------------------------------ the CLI

  // [kind, prepare (whole, not killed) -> the argv to kill].
  cliKinds() {
    const rr = () => ['--reason', 'kill test'];
    return [
      ['person add', () => { const id = this.id('KA'); return ['person', 'add', id, '--name', `A ${id}`, '--unit', this.unit, '--passport', `E${1000000 + this.seq}`]; }],
      ['unit add', () => ['unit', 'add', this.id('KU'), '--name', 'Kill unit', '--parent', 'HQ']],
      ['post add', () => ['post', 'add', this.id('KO'), '--unit', this.unit, '--level', '2', '--compartments', 'ALPHA', '--title', 'Kill post']],
      ['review open', () => ['review', 'open', this.person(), '--level', '3']],
      ['review finding', () => ['review', 'finding', String(this.reviewOpen().id), String(1 + Math.floor(rnd() * 6)), 'concern', '--note', 'kill']],
      ['review approve (first of two)', () => ['--as', 'rev1', 'review', 'approve', String(this.reviewReady().id), ...rr()]],
      ['review approve (second of two)', () => {
        const r = this.reviewReady();
        this.must(['--as', 'rev1', 'review', 'approve', String(r.id), ...rr()]);
        return ['--as', 'rev2', 'review', 'approve', String(r.id), ...rr()];
      }],
      ['review reject', () => ['--as', 'rev1', 'review', 'reject', String(this.reviewOpen().id), ...rr()]],
      ['appointment add', () => ['appointment', 'add', this.reviewed(), 'K-3']],
      ['appointment end', () => { const a = this.appointed(); return ['appointment', 'end', a.person, String(a.appt)]; }],
      ['activate', () => ['activate', this.appointed().person]],
      ['matter file (suspending)', () => ['matter', 'file', this.active(), 'leak', '--detail', 'kill']],
      ['matter file (re-review)', () => ['matter', 'file', this.active(), 'foreign_marriage', '--detail', 'kill']],
      ['suspend', () => ['suspend', this.active(), ...rr()]],
      ['reinstate', () => { const p = this.active(); this.must(['suspend', p, ...rr()]); return ['reinstate', p, ...rr()]; }],
      ['policy load', () => ['policy', 'load', this.policyFile((p) => { p.categories.core.rereview_days = 300 + Math.floor(rnd() * 60); })]],
      ['account add', () => ['account', 'add', this.id('ka'), '--roles', 'officer', '--password-file', this.pwfile]],
      ['role grant', () => { const a = this.id('kg'); this.must(['account', 'add', a, '--password-file', this.pwfile]); return ['role', 'grant', a, 'reviewer']; }],
      ['account passwd', () => ['account', 'passwd', 'off1', '--password-file', rnd() < 0.5 ? this.pwfile : this.pwfile2]],
      ['import units', () => ['import', 'units', this.csv('units', 1500).path]],
      ['import posts', () => ['import', 'posts', this.csv('posts', 1500).path]],
      ['import persons', () => ['import', 'persons', this.csv('persons', 3000).path]],
      ['import appointments', () => ['import', 'appointments', this.csv('appointments', 1500).path]],
      ['decide (audit_denials)', () => {
        if (!this.policy.audit_denials) { this.policy.audit_denials = true; this.must(['policy', 'load', this.policyFile(() => {})]); }
        return ['decide', 'NOBODY', 'read', 'secret'];
      }],
      ['due run', () => {
        // shortened intervals bring many approved reviews due at once
        this.must(['policy', 'load', this.policyFile((p) => { for (const c of Object.values(p.categories)) if (c.rereview_days) c.rereview_days = 30; })]);
        return ['due'];
      }],
    ];
  }

  async cliPhase() {
    for (const [kind, prep] of this.cliKinds()) {
      const t0 = performance.now();	// one whole run says how long a run takes
      const whole = this.cli(prep());
      if (whole.status !== 0 && whole.status !== 3) this.problems.push(`cli ${kind}: a whole run exited ${whole.status}: ${whole.err}`);
      this.dur.set(kind, performance.now() - t0);
      for (let i = 0; i < this.rounds; i++) {
        const args = prep();
        await this.attack(kind, args);
      }
      this.check(`cli ${kind}`);
      this.log(`cli ${kind}: ${this.kills} kills so far, ${Math.round(performance.now() - this.t0)} ms`);
      if (this.full) await this.checkDecisions(`cli ${kind}`);
    }
    // the due run's policy goes back, so later reviews last
    this.must(['policy', 'load', this.policyFile(() => {})]);
  }

  // ------------------------------------------------------------ the server

  async serve() {
    const p = spawn(BAOMI, ['serve', '--listen', '127.0.0.1:0', '--threads', '4'], { env: this.env, cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const url = await new Promise((resolve, reject) => {
      let out = '';
      p.stdout.on('data', (d) => { out += d; const m = out.match(/listening on (http:\/\/\S+)/); if (m) resolve(m[1]); });
      p.on('exit', (code) => reject(new Error(`server exited ${code}: ${err.slice(0, 500)}`)));
    });
    const exited = new Promise((r) => p.on('exit', (code, sig) => r({ code, sig })));
    for (let i = 0; ; i++) {
      const r = await fetch(url + '/readyz').catch(() => null);
      if (r?.status === 200) break;
      if (i > 400) throw new Error('server not ready after 20 s');
      await sleep(50);
    }
    return { url, p, exited, err: () => err };
  }

  async req(srv, method, path, { token, body, raw, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let payload = raw;
    if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] = 'application/json'; }
    const r = await fetch(srv.url + path, { method, headers: h, body: payload });
    const text = await r.text();
    return { status: r.status, text, json: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null, headers: r.headers };
  }

  // Logs name in, changing a temporary password first; the session's token.
  async login(srv, name, pw) {
    let r = await this.req(srv, 'POST', '/v1/login', { body: { name, password: pw } });
    if (r.status !== 200) throw new Error(`login ${name}: ${r.text}`);
    this.pws.set(name, pw);
    if (r.json.password_change_required) {
      this.pws.set(name, `${pw}-own`);
      const c = await this.req(srv, 'POST', '/v1/password', { token: r.json.token, body: { old_password: pw, new_password: `${pw}-own` } });
      if (c.status !== 204) throw new Error(`password of ${name}: ${c.text}`);
      r = await this.req(srv, 'POST', '/v1/login', { body: { name, password: `${pw}-own` } });
      if (r.status !== 200) throw new Error(`login ${name}: ${r.text}`);
    }
    return r.json.token;
  }

  async tokens(srv) {
    if (this.tok) return;
    this.tok = {};
    for (const [n, pw] of [['sysadmin', 'sysadmin-password-1'], ['secadmin', 'secadmin-password-1'],
      ['rev1', 'kill-password-123456'], ['rev2', 'kill-password-123456'], ['kdec', 'kill-password-123456']]) {
      this.tok[n] = await this.login(srv, n, pw);
    }
    this.must(['account', 'passwd', 'off1', '--password-file', this.pwfile]);
  }

  // [kind, prepare (CLI, whole) -> a function making one request, the kill
  // comes within ms (200 unless given: longer for writes that take longer,
  // so that some finish)].  The request is repeated back to back until the
  // server is killed, so a write is in flight at the kill.
  httpKinds() {
    const T = () => this.tok;
    const as = (who, method, path, body, headers) => (srv) => this.req(srv, method, path, { token: T()[who], body, headers });
    const decide = (srv, who, id, body) => this.req(srv, 'GET', `/v1/reviews/${id}`, { token: T()[who] })
      .then((g) => this.req(srv, 'POST', `/v1/reviews/${id}/decision`, { token: T()[who], body, headers: { 'If-Match': g.headers.get('etag') ?? '*' } }));
    const fresh = (make) => () => { const pool = Array.from({ length: this.pool }, make); let i = 0; return () => pool[i++ % pool.length]; };
    return [
      ['person add', () => (srv) => this.acked('persons', 'ext_id', this.id('HA'), (id) => as('secadmin', 'POST', '/v1/persons', { id, name: 'H', unit: this.unit })(srv))],
      ['person update', () => { const p = this.person(); return (srv) => as('secadmin', 'PATCH', `/v1/persons/${p}`, { name: `N${this.seq++}` }, { 'If-Match': '*' })(srv); }],
      ['unit add', () => (srv) => this.acked('units', 'code', this.id('HU'), (code) => as('secadmin', 'POST', '/v1/units', { code, name: 'H', parent: 'HQ' })(srv))],
      ['post add', () => (srv) => this.acked('posts', 'code', this.id('HO'), (code) => as('secadmin', 'POST', '/v1/posts', { code, unit: this.unit, level: 'secret', title: 'H' })(srv))],
      ['appointment add', () => { const next = fresh(() => this.reviewed())(); return (srv) => as('secadmin', 'POST', '/v1/appointments', { person: next(), post: 'K-3' })(srv); }],
      ['appointment end', () => { const next = fresh(() => this.appointed())(); return (srv) => { const a = next(); return as('secadmin', 'POST', `/v1/persons/${a.person}/appointments/${a.appt}/end`)(srv); }; }],
      ['review open', () => { const next = fresh(() => this.person())(); return (srv) => as('secadmin', 'POST', '/v1/reviews', { person: next(), level: 'top_secret' })(srv); }],
      ['review finding', () => { const r = this.reviewOpen(); let i = 0; return (srv) => as('secadmin', 'PUT', `/v1/reviews/${r.id}/items/${1 + (i++ % 6)}`, { finding: 'clear', note: 'h' })(srv); }],
      ['review approve', () => { const next = fresh(() => this.reviewReady())(); return async (srv) => { const r = next(); await decide(srv, 'rev1', r.id, { approve: true, reason: 'h' }); return decide(srv, 'rev2', r.id, { approve: true, reason: 'h' }); }; }],
      ['matter file (suspending)', () => { const next = fresh(() => this.active())(); return (srv) => as('secadmin', 'POST', '/v1/matters', { person: next(), type: 'leak', detail: 'h' })(srv); }],
      ['matter file (re-review)', () => { const next = fresh(() => this.active())(); return (srv) => as('secadmin', 'POST', '/v1/matters', { person: next(), type: 'foreign_funding', detail: 'h' })(srv); }],
      ['suspend and reinstate', () => { const p = this.active(); let i = 0; return (srv) => as('secadmin', 'POST', `/v1/persons/${p}/${i++ % 2 ? 'reinstate' : 'suspend'}`, { reason: 'h' })(srv); }],
      ['policy load', () => async (srv) => {
        const g = await this.req(srv, 'GET', '/v1/policy', { token: T().secadmin });
        const body = { ...g.json, categories: { ...g.json.categories, core: { ...g.json.categories.core, rereview_days: 300 + Math.floor(rnd() * 60) } } };
        return this.req(srv, 'PUT', '/v1/policy', { token: T().secadmin, body, headers: { 'If-Match': g.headers.get('etag') } });
      }],
      ['account add', () => (srv) => this.acked('accounts', 'name', this.id('ha'), (name) => as('sysadmin', 'POST', '/v1/accounts', { name, password: 'kill-password-123456' })(srv)), 600],
      ['role grant', () => { const next = fresh(() => { const a = this.id('hg'); this.must(['account', 'add', a, '--password-file', this.pwfile]); return a; })(); return (srv) => as('secadmin', 'PUT', `/v1/accounts/${next()}/roles/officer`)(srv); }],
      ['password reset', () => (srv) => as('sysadmin', 'POST', '/v1/accounts/off1/password', { password: 'kill-password-123456' })(srv), 600],
      ['password change (own)', () => {
        const pws = ['kill-password-123456', 'kill-password-654321'];
        this.must(['account', 'passwd', 'pwc', '--password-file', this.pwfile]);
        let cur = 0;
        return async (srv) => {	// whichever of the two the last kill left
          let r = await this.req(srv, 'POST', '/v1/login', { body: { name: 'pwc', password: pws[cur] } });
          if (r.status === 401) { cur = 1 - cur; r = await this.req(srv, 'POST', '/v1/login', { body: { name: 'pwc', password: pws[cur] } }); }
          if (r.status !== 200) return r;
          const c = await this.req(srv, 'POST', '/v1/password', { token: r.json.token, body: { old_password: pws[cur], new_password: pws[1 - cur] } });
          if (c.status < 300) cur = 1 - cur;
          return c;
        };
      }, 600],
      ['login', () => (srv) => this.req(srv, 'POST', '/v1/login', { body: { name: 'rev1', password: this.pws.get('rev1') } }), 600],
      ['import persons', () => (srv) => this.req(srv, 'POST', '/v1/imports/persons', { token: T().secadmin, raw: this.csvText('persons', 3000), headers: { 'Content-Type': 'text/csv' } }), 800],
      ['import appointments', () => { const c = this.csv('appointments', 1500); const body = require_text(c.path); return (srv) => this.req(srv, 'POST', '/v1/imports/appointments', { token: T().secadmin, raw: body, headers: { 'Content-Type': 'text/csv' } }); }, 800],
      ['decision batch (audit_denials)', () => {
        if (!this.policy.audit_denials) { this.policy.audit_denials = true; this.must(['policy', 'load', this.policyFile(() => {})]); }
        const body = JSON.stringify({ requests: Array.from({ length: BATCH }, (_, i) => ({ person: `NOBODY${i}`, action: 'read', object: { level: 'secret' } })) });
        return (srv) => this.req(srv, 'POST', '/v1/decisions/batch', { token: T().kdec, raw: body, headers: { 'Content-Type': 'application/json' } });
      }, 1500],
      ['maintenance checkpoint', () => (srv) => sleep(900 + rnd() * 300).then(() => this.acked('persons', 'ext_id', this.id('HC'), (id) => as('secadmin', 'POST', '/v1/persons', { id, name: 'H', unit: this.unit })(srv)))],
    ];
  }

  // Makes a record by request; one the server acknowledged (2xx) must be
  // there after the kill: an acknowledged write is never lost.
  async acked(table, column, id, request) {
    const r = await request(id);
    if (r.status < 300) this.acks.push([table, column, id]);
    return r;
  }

  csvText(kind, rows) { return require_text(this.csv(kind, rows).path); }

  async httpPhase() {
    let srv = await this.serve();
    await this.tokens(srv);
    for (const [kind, prep, span = 200] of this.httpKinds()) {
      for (let i = 0; i < this.rounds; i++) {
        const one = prep();
        let stop = false;
        const loop = (async () => {
          while (!stop) {
            const r = await one(srv).catch(() => { stop = true; });
            if (r && r.status < 300) this.done++;
            else if (r && !this.quiet.has(kind)) { this.quiet.add(kind); this.log(`http ${kind}: ${r.status} ${r.text.slice(0, 200)}`); }
          }
        })();
        await sleep(rnd() * span);
        this.kills++;
        srv.p.kill('SIGKILL');
        await srv.exited;
        stop = true;
        await loop;
        srv = await this.serve().catch((e) => { this.problems.push(`http ${kind}: restart: ${e.message}`); return null; });
        if (!srv) return;
      }
      this.check(`http ${kind}`);
      this.log(`http ${kind}: ${this.kills} kills, ${this.done} writes done so far, ${Math.round(performance.now() - this.t0)} ms`);
      if (this.full) await this.checkDecisions(`http ${kind}`, srv);
    }
    srv = await this.startKills(srv);
    this.check('http start (snapshot load, due run)');
    srv.p.kill('SIGTERM');
    const ex = await srv.exited;
    if (ex.code !== 0) this.problems.push(`http: server exited ${ex.code} ${ex.sig} on SIGTERM: ${srv.err().slice(-500)}`);
  }

  // Kills servers while they start: the snapshot load and the due run the
  // maintenance thread makes at once, with re-reviews falling due (persons on
  // post whose interval a policy just shortened).  The running server is
  // stopped first; a started one is returned.
  async startKills(srv) {
    srv.p.kill('SIGTERM');
    await srv.exited;
    for (let i = 0; i < this.rounds; i++) {
      for (let j = 0; j < 3; j++) this.appointed();
      this.must(['policy', 'load', this.policyFile((p) => { for (const c of Object.values(p.categories)) if (c.rereview_days) c.rereview_days = 30; })]);
      const p = spawn(BAOMI, ['serve', '--listen', '127.0.0.1:0'], { env: this.env, cwd: this.dir, stdio: 'ignore' });
      const exited = new Promise((r) => p.on('exit', r));
      await sleep(rnd() * 200);
      this.kills++;
      p.kill('SIGKILL');
      await exited;
      this.must(['policy', 'load', this.policyFile(() => {})]);
    }
    return this.serve();
  }

  // A server started now decides for every person what `baomi status` says.
  async checkDecisions(label, running) {
    const srv = running ?? await this.serve();
    try {
      if (!this.tok) await this.tokens(srv);
      // every person written one by one, and a sample of the imported ones
      const rows = this.sql(`SELECT ext_id, level FROM persons WHERE ext_id NOT LIKE 'I%' OR random() % 50 = 0`)
        .split('\n').map((l) => l.split('|'));
      const persons = rows.map(([p]) => p);
      const lv = ['none', 'confidential', 'secret', 'top_secret'];
      const body = { requests: rows.map(([p, l]) => ({ person: p, action: 'read', object: { level: lv[l] } })) };
      const r = await this.req(srv, 'POST', '/v1/decisions/batch', { token: this.tok.secadmin, body });
      if (r.status !== 200) { this.problems.push(`${label}: decisions: ${r.status} ${r.text.slice(0, 300)}`); return; }
      persons.forEach((p, i) => {
        const st = JSON.parse(this.must(['--json', 'status', p]));
        if (st.cleared !== r.json.results[i].allow)
          this.problems.push(`${label}: ${p}: status says cleared=${st.cleared}, the server allow=${r.json.results[i].allow} ${JSON.stringify(r.json.results[i].reasons)}`);
      });
    } finally {
      if (!running) { srv.p.kill('SIGTERM'); await srv.exited; }
    }
  }

  async run() {
    this.t0 = performance.now();
    try {
      this.setup();
      await this.cliPhase();
      await this.checkDecisions('after the CLI');
      await this.httpPhase();
      await this.checkDecisions('after HTTP');
      this.check('the end');
    } finally {
      if (!this.problems.length) rmSync(this.dir, { recursive: true, force: true });
      else this.log(`database kept: ${this.dir}`);
    }
    return this.problems;
  }
}

function require_text(path) {
  return readFileSync(path, 'utf8');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 20);
  const seed = process.argv[3] ? Number(process.argv[3]) : Date.now() % 1e9;
  const t = new KillTest({ rounds, seed, full: rounds >= 10, log: (s) => console.log(s) });
  console.log(`kill test: ${rounds} rounds a kind, seed ${seed}, ${BAOMI}`);
  const problems = await t.run();
  console.log(`${t.kills} kills, ${problems.length} problems`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(problems.length ? 1 : 0);
}
