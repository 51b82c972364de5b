// Concurrent edits on the vetting and clearance writes (issue 4): the same
// write sent many times at once over many connections (so several server
// threads run it), two writes that exclude each other sent together, and a
// CLI process writing beside the server.  Every service write is one
// BEGIN IMMEDIATE transaction that reads, checks and writes; these tests
// hold the invariants that follow from that, many rounds each, against a
// regression that reads before the lock (or outside the transaction).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { BAOMI, startServer, spawnServer, call, login, account as makeAccount } from './lib.mjs';

let srv, sys, sec, aud, r1, r2, r3, o1, o2;
const as = (who, method, path, body, headers) => call(srv, method, path, { token: who.token, body, headers });
const all = (n, fn) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
const account = (name, role) => makeAccount(srv, { sys, sec }, name, role);
const execp = promisify(execFile);
let seq = 0;
const fresh = (p) => `${p}${++seq}`;

before(async () => {
  srv = await startServer({ args: ['--threads', '8'] });
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  aud = await login(srv, 'auditor');
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  for (const [code, level] of [['P-S', 'secret'], ['P-S2', 'secret'], ['P-TS', 'top_secret']]) {
    const r = await as(sec, 'POST', '/v1/posts', { code, unit: 'HQ', level, compartments: ['ALPHA'] });
    assert.equal(r.status, 201, r.text);
  }
  [r1, r2, r3] = [await account('rv1', 'reviewer'), await account('rv2', 'reviewer'), await account('rv3', 'reviewer')];
  [o1, o2] = [await account('of1', 'officer'), await account('of2', 'officer')];
});
after(async () => { if (srv) assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

async function person(id) {
  const r = await as(sec, 'POST', '/v1/persons', { id, name: `Person ${id}`, unit: 'HQ' });
  assert.equal(r.status, 201, r.text);
}

// A review of id at level opened by secadmin with six clear findings.
async function ready(id, level) {
  const o = await as(sec, 'POST', '/v1/reviews', { person: id, level });
  assert.equal(o.status, 201, o.text);
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
  return o.json.id;
}

const decide = (who, id, approve, tag = '*') => as(who, 'POST', `/v1/reviews/${id}/decision`,
  { approve, reason: approve ? 'fine' : 'no' }, { 'If-Match': tag });

// The audit events of action about subject.
async function events(subject, action) {
  const r = await as(aud, 'GET', `/v1/audit?subject=${subject}&action=${action}&limit=1000`);
  assert.equal(r.status, 200, r.text);
  return r.json.items;
}

async function chainOk() {
  const v = await as(aud, 'POST', '/v1/audit/verify');
  assert.equal(v.status, 200, v.text);
  assert.equal(v.json.ok, true, v.text);
}

// An active person cleared for secret (ALPHA).
async function active(id) {
  await person(id);
  const rv = await ready(id, 'secret');
  assert.equal((await decide(r1, rv, true)).status, 200);
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: id, post: 'P-S' })).status, 201);
  assert.equal((await as(sec, 'POST', `/v1/persons/${id}/activate`)).status, 204);
}

test('one reviewer approving one core review many times at once counts once', async () => {
  for (let round = 0; round < 8; round++) {
    const id = fresh('TS');
    await person(id);
    const rv = await ready(id, 'top_secret');
    const tag = (await as(r1, 'GET', `/v1/reviews/${rv}`)).headers.get('etag');
    // half on the version read, half on "*": only the first of all may count
    const got = await all(6, (i) => decide(r1, rv, true, i % 2 ? tag : '*'));
    assert.equal(got.filter((g) => g.status === 200).length, 1, got.map((g) => g.status).join());
    for (const g of got) assert.ok([200, 403, 409, 412].includes(g.status), g.text);
    const r = await as(r1, 'GET', `/v1/reviews/${rv}`);
    assert.equal(r.json.state, 'open', 'one approver of two');
    assert.equal(r.json.approvals.length, 1);
    assert.equal((await events(id, 'review.approve')).length, 1);
  }
  await chainOk();
});

test('two approvers of one core review at once: one event each, approved and cleared once', async () => {
  for (let round = 0; round < 8; round++) {
    const id = fresh('TT');
    await person(id);
    const rv = await ready(id, 'top_secret');
    const got = await Promise.all([decide(r1, rv, true), decide(r2, rv, true), decide(r1, rv, true), decide(r2, rv, true)]);
    assert.equal(got.filter((g) => g.status === 200).length, 2, got.map((g) => g.status).join());
    const r = await as(r1, 'GET', `/v1/reviews/${rv}`);
    assert.equal(r.json.state, 'approved');
    assert.deepEqual(r.json.approvals.map((a) => a.by).sort(), ['rv1', 'rv2']);
    const ev = await events(id, 'review.approve');
    assert.deepEqual(ev.map((e) => e.actor).sort(), ['rv1', 'rv2']);
    assert.deepEqual(ev.map((e) => e.fields.final).sort(), [false, true]);
    const moves = await events(id, 'person.state');
    assert.deepEqual(moves.map((e) => e.fields.to ?? e.fields.state).filter((s) => s === 'onboarding').length, 1,
      JSON.stringify(moves.map((e) => e.fields)));
    // a third approver after the fact: the review is closed
    assert.equal((await decide(r3, rv, true)).status, 409);
  }
  await chainOk();
});

test('an approval racing a rejection of one case: one verdict, and the person follows it', async () => {
  for (let round = 0; round < 10; round++) {
    const id = fresh('AR');
    await person(id);
    const rv = await ready(id, 'secret');
    const got = await Promise.all([decide(r1, rv, true), decide(r2, rv, false), decide(r3, rv, round % 2 === 0)]);
    assert.equal(got.filter((g) => g.status === 200).length, 1, got.map((g) => `${g.status} ${g.json?.detail}`).join());
    const won = got.find((g) => g.status === 200).json.state;
    const r = await as(r1, 'GET', `/v1/reviews/${rv}`);
    assert.equal(r.json.state, won);
    assert.equal(r.json.approvals.length, 1);
    const p = await as(sec, 'GET', `/v1/persons/${id}`);
    assert.equal(p.json.state, won === 'approved' ? 'onboarding' : 'rejected');
  }
});

test('a decision racing a finding edit: never approved over a disqualifying finding', async () => {
  for (let round = 0; round < 12; round++) {
    const id = fresh('DF');
    await person(id);
    const rv = await ready(id, 'secret');
    const edit = as(sec, 'PUT', `/v1/reviews/${rv}/items/${1 + (round % 6)}`, { finding: 'disqualifying', note: 'found late' });
    const [e, d] = round % 2 ? await Promise.all([edit, decide(r1, rv, true)]) : (await Promise.all([decide(r1, rv, true), edit])).reverse();
    assert.equal((e.status === 200) + (d.status === 200), 1, `${e.status} ${e.text} / ${d.status} ${d.text}`);
    const r = await as(r1, 'GET', `/v1/reviews/${rv}`);
    const bad = r.json.items.some((x) => x.finding === 'disqualifying');
    assert.equal(r.json.state === 'approved', !bad, JSON.stringify(r.json));
  }
});

test('an officer granted reviewer while deciding their own opened case never decides it', async () => {
  for (let round = 0; round < 3; round++) {
    const id = fresh('GR');
    await person(id);
    const name = fresh('og');
    const who = await account(name, 'officer');
    const o = await as(who, 'POST', '/v1/reviews', { person: id, level: 'secret' });
    assert.equal(o.status, 201, o.text);
    for (let i = 1; i <= 6; i++)
      assert.equal((await as(who, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
    const grant = as(sec, 'PUT', `/v1/accounts/${name}/roles/reviewer`);
    const tries = await all(4, () => decide(who, o.json.id, true));
    assert.equal((await grant).status, 204);
    const after1 = await decide(who, o.json.id, true);
    for (const t of [...tries, after1]) assert.equal(t.status, 403, t.text);
    assert.equal((await as(r1, 'GET', `/v1/reviews/${o.json.id}`)).json.approvals.length, 0);
  }
});

test('officers opening a review of one person at once open exactly one', async () => {
  for (let round = 0; round < 10; round++) {
    const id = fresh('OP');
    await person(id);
    const got = await all(6, (i) => as([o1, o2, sec][i % 3], 'POST', '/v1/reviews', { person: id, level: i % 2 ? 'secret' : 'top_secret' }));
    assert.equal(got.filter((g) => g.status === 201).length, 1, got.map((g) => g.status).join());
    for (const g of got.filter((x) => x.status !== 201)) assert.equal(g.status, 409, g.text);
    const open = await as(sec, 'GET', `/v1/reviews?person=${id}&state=open`);
    assert.equal(open.json.items.length, 1);
    assert.equal((await events(id, 'review.open')).length, 1);
    assert.equal((await events(id, 'person.state')).length, 1, 'candidate -> reviewing once');
  }
});

// Every person's clearance and decision, as the server answers them now.
async function answers(s, who, ids) {
  const c = (method, path, body) => call(s, method, path, { token: who.token, body });
  const out = {};
  for (const id of ids) {
    const st = await c('GET', `/v1/persons/${id}/clearance`);
    assert.equal(st.status, 200, st.text);
    const d = await c('POST', '/v1/decisions', { person: id, action: 'read', object: { level: 'secret', compartments: ['ALPHA'] } });
    assert.equal(d.status, 200, d.text);
    const p = await c('GET', `/v1/persons/${id}`);
    out[id] = { state: p.json.state, cleared: st.json.cleared, allow: d.json.allow,
      reasons: d.json.reasons.map((x) => x.code).sort(), gates: st.json.gates.map((g) => `${g.gate}:${g.ok}`) };
  }
  return out;
}

test('suspend, reinstate, activate and a leak at once: status, decisions and the store agree, also after a restart', async () => {
  const ids = [];
  for (let i = 0; i < 6; i++) { const id = fresh('SR'); await active(id); ids.push(id); }
  const w = (id, k) => [
    () => as(sec, 'POST', `/v1/persons/${id}/suspend`, { reason: `race ${k}` }),
    () => as(sec, 'POST', `/v1/persons/${id}/reinstate`, { reason: `race ${k}` }),
    () => as(sec, 'POST', `/v1/persons/${id}/activate`),
    () => as(o1, 'POST', '/v1/matters', { person: id, type: 'leak', detail: `race ${k}` }),
  ][k % 4]();
  for (let round = 0; round < 6; round++) {
    const got = await Promise.all(ids.flatMap((id) => Array.from({ length: 8 }, (_, k) => w(id, k + round))));
    for (const g of got) assert.ok(g.status < 300 || g.status === 409 || g.status === 422, g.text);
    const now = await answers(srv, sec, ids);
    for (const id of ids) {
      // suspended in the store <=> not cleared; never active while a suspension is in force
      const a = now[id];
      assert.equal(a.cleared, a.state === 'active', `${id}: ${JSON.stringify(a)}`);
      assert.equal(a.allow, a.cleared, `${id}: decision and status agree: ${JSON.stringify(a)}`);
    }
  }
  const live = await answers(srv, sec, ids);
  // the same database served again: the snapshot rebuilt from it answers alike
  srv.proc.kill('SIGTERM');
  assert.deepEqual(await srv.exited, { code: 0, sig: null });
  const again = await spawnServer(['--threads', '8'], { ...process.env, BAOMI_DB: srv.db });
  const old = srv;
  srv = { ...old, url: again.url, proc: again.proc,
    exited: new Promise((res) => again.proc.on('exit', (code, sig) => res({ code, sig }))) };
  srv.stop = async () => { srv.proc.kill('SIGTERM'); const r = await srv.exited; rmSync(old.dir, { recursive: true, force: true }); return r; };
  // sessions live in the store: every token of before goes on
  assert.deepEqual(await answers(srv, sec, ids), live);
  await chainOk();
});

test('an appointment racing the rejection of the review in force is gated at commit', async () => {
  for (let round = 0; round < 8; round++) {
    const id = fresh('AG');
    await active(id);
    const rr = await ready(id, 'secret');   // a re-review, to be rejected
    const [ap, rj] = await Promise.all([
      as(sec, 'POST', '/v1/appointments', { person: id, post: 'P-S2' }),
      decide(r2, rr, false),
    ]);
    assert.equal(rj.status, 200, rj.text);
    const add = (await events(id, 'appointment.add')).filter((e) => e.fields.post === 'P-S2');
    const rej = await events(id, 'review.reject');
    assert.equal(add.length, ap.status === 201 ? 1 : 0, ap.text);
    if (add.length) assert.ok(add[0].seq < rej[0].seq, 'the appointment committed before the rejection');
    else assert.match(ap.json.detail, /review/);
  }
});

test('PATCH person and PUT policy with one ETag at once: exactly one edit lands', async () => {
  for (let round = 0; round < 6; round++) {
    const id = fresh('PE');
    await person(id);
    const tag = (await as(sec, 'GET', `/v1/persons/${id}`)).headers.get('etag');
    const got = await all(6, (i) => as([sec, o1, o2][i % 3], 'PATCH', `/v1/persons/${id}`, { name: `Edit ${i}` }, { 'If-Match': tag }));
    const ok = got.filter((g) => g.status === 200);
    assert.equal(ok.length, 1, got.map((g) => g.status).join());
    for (const g of got.filter((x) => x.status !== 200)) assert.equal(g.status, 412, g.text);
    assert.equal((await as(sec, 'GET', `/v1/persons/${id}`)).json.name, ok[0].json.name);
  }
  for (let round = 0; round < 4; round++) {
    const cur = await as(sec, 'GET', '/v1/policy');
    const tag = cur.headers.get('etag');
    const got = await all(4, (i) => as(sec, 'PUT', '/v1/policy', { ...cur.json, audit_denials: i % 2 === 0 }, { 'If-Match': tag }));
    assert.equal(got.filter((g) => g.status === 200).length, 1, got.map((g) => `${g.status} ${g.text}`).join());
    for (const g of got.filter((x) => x.status !== 200)) assert.equal(g.status, 412, g.text);
  }
});

test('CLI suspensions in a second process racing HTTP reinstatements: the server ends where the store is', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) { const id = fresh('CL'); await active(id); ids.push(id); }
  const env = { ...process.env, BAOMI_DB: srv.db };
  const cli = (...a) => execp(BAOMI, a, { env }).then(() => 0, (err) => err.code);
  for (let round = 0; round < 4; round++) {
    await Promise.all(ids.flatMap((id) => [
      cli('suspend', id, '--reason', `cli ${round}`),
      as(sec, 'POST', `/v1/persons/${id}/reinstate`, { reason: `http ${round}` }),
      cli('reinstate', id, '--reason', `cli ${round}`),
      as(sec, 'POST', `/v1/persons/${id}/suspend`, { reason: `http ${round}` }),
    ]));
    // the maintenance thread picks the CLI's commits up within seconds
    const end = Date.now() + 6000;
    for (;;) {
      const now = await answers(srv, sec, ids);
      const ok = ids.every((id) => now[id].cleared === (now[id].state === 'active') && now[id].allow === now[id].cleared);
      if (ok) break;
      assert.ok(Date.now() < end, JSON.stringify(now));
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

// The request's rights are read before the write lock (session cache): a
// revocation committed while a decision waited for the lock must refuse it
// (403, nothing written), never let it through after the revocation.
test('a reviewer whose role is revoked while deciding: no write of theirs follows the revocation', async () => {
  for (let round = 0; round < 5; round++) {
    const name = fresh('rx');
    const who = await account(name, 'reviewer');
    const rvs = [];
    for (let i = 0; i < 4; i++) { const id = fresh('RX'); await person(id); rvs.push(await ready(id, 'secret')); }
    const id = fresh('RF');
    await person(id);
    const open = await as(sec, 'POST', '/v1/reviews', { person: id, level: 'secret' });
    const put = (i) => as(who, 'PUT', `/v1/reviews/${open.json.id}/items/${1 + (i % 6)}`, { finding: 'concern', note: `try ${i}` });
    // the revocation in the middle of the writes, so some authorized before it wait for the lock
    const all1 = [...rvs.map((rv) => decide(who, rv, true)), ...Array.from({ length: 12 }, (_, i) => put(i))];
    const revoke = as(sec, 'DELETE', `/v1/accounts/${name}/roles/reviewer`);
    const all2 = Array.from({ length: 12 }, (_, i) => put(i + 12));
    const [rk, got] = [await revoke, await Promise.all([...all1, ...all2])];
    assert.equal(rk.status, 204, rk.text);
    for (const g of got) assert.ok([200, 403].includes(g.status), g.text);
    const ev = (await as(aud, 'GET', `/v1/audit?actor=${name}&limit=100`)).json.items.filter((e) => e.action.startsWith('review.'));
    const revs = await as(aud, 'GET', '/v1/audit?action=role.revoke&limit=1000');
    const at = revs.json.items.find((e) => e.subjects.includes(name)).seq;
    const late = ev.filter((e) => e.seq > at);
    assert.deepEqual(late.map((e) => `${e.seq} ${e.action}`), [], `writes by ${name} after the revocation at seq ${at}`);
    assert.equal(ev.length, got.filter((g) => g.status === 200).length);
  }
});
