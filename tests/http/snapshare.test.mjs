// One decision snapshot for the whole server: a write on one connection is
// in the next decision on every other connection (other threads), writes
// by the CLI while the server runs reach decisions within seconds, and the
// maintenance thread opens due re-reviews (--maintenance-interval 1 with
// the test clock moved close to the re-review date).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, call, login, reviewDecision } from './lib.mjs';

let srv, sys, sec, rev;
const as = (who, method, path, body) => call(srv, method, path, { token: who.token, body });
const ask = (person) =>
  as(sec, 'POST', '/v1/decisions', { person, action: 'read', object: { level: 'secret', compartments: ['ALPHA'] } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codes = (r) => r.json.reasons.map((x) => x.code);

// Polls fn every 100 ms until it returns true; fails after ms.
async function within(ms, what, fn) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return Date.now() - (end - ms);
    assert.ok(Date.now() < end, `${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

async function active(person) {
  let r = await as(sec, 'POST', '/v1/persons', { id: person, name: `Person ${person}`, unit: 'HQ' });
  assert.equal(r.status, 201, r.text);
  const o = await as(sec, 'POST', '/v1/reviews', { person, level: 'secret' });
  assert.equal(o.status, 201, o.text);
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
  r = await reviewDecision(srv, rev, o.json.id, { approve: true, reason: 'fine' });
  assert.equal(r.status, 200, r.text);
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person, post: 'P-S' })).status, 201);
  assert.equal((await as(sec, 'POST', `/v1/persons/${person}/activate`)).status, 204);
}

before(async () => {
  srv = await startServer({ env: { BAOMI_TEST_CLOCK: '1' }, args: ['--maintenance-interval', '1'] });
  await within(5000, 'readyz', async () => (await fetch(`${srv.url}/readyz`)).status === 200);
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'rev-a', password: 'rev-a-password-1' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/rev-a/roles/reviewer')).status, 204);
  rev = await login(srv, 'rev-a', 'rev-a-password-1');
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  const p = await as(sec, 'POST', '/v1/posts', { code: 'P-S', unit: 'HQ', level: 'secret', compartments: ['ALPHA'] });
  assert.equal(p.status, 201, p.text);
  for (const id of ['E1', 'E2', 'E3']) await active(id);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('a write on one connection is in the next decision on every other', async () => {
  const before0 = await Promise.all(Array.from({ length: 16 }, () => ask('E1')));
  for (const m of before0) assert.equal(m.json.allow, true, m.text);
  const gen0 = Math.max(...before0.map((m) => m.json.snapshot));
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/suspend', { reason: 'inquiry' })).status, 204);
  // Many connections at once, so that every server thread answers some.
  const after1 = await Promise.all(Array.from({ length: 24 }, () => ask('E1')));
  for (const m of after1) {
    assert.equal(m.json.allow, false, m.text);
    assert.deepEqual(codes(m), ['suspended']);
    assert.ok(m.json.snapshot > gen0, `snapshot ${m.json.snapshot} after ${gen0}`);
  }
  // Reads and refused writes leave the snapshot number alone.
  const gen1 = after1[0].json.snapshot;
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/suspend', { reason: 'again' })).status >= 400, true);
  assert.equal((await as(sec, 'GET', '/v1/persons/E1/clearance')).status, 200);
  for (const m of await Promise.all(Array.from({ length: 8 }, () => ask('E1'))))
    assert.equal(m.json.snapshot, gen1, m.text);
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/reinstate', { reason: 'cleared' })).status, 204);
  for (const m of await Promise.all(Array.from({ length: 24 }, () => ask('E1'))))
    assert.equal(m.json.allow, true, m.text);
});

test('the CLI suspending a person while the server runs changes decisions within 3 s', async () => {
  assert.equal((await ask('E2')).json.allow, true);
  srv.cli('suspend', 'E2', '--reason', 'from the command line');
  const ms = await within(3000, 'CLI suspension', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => ask('E2')));
    return all.every((m) => m.json.allow === false && codes(m).includes('suspended'));
  });
  assert.ok(ms < 3000);
  // A write by the server afterwards is seen at once, as before.
  assert.equal((await as(sec, 'POST', '/v1/persons/E2/reinstate', { reason: 'ok' })).status, 204);
  assert.equal((await ask('E2')).json.allow, true);
});

test('persons imported by the CLI are known to decisions within 3 s', async () => {
  const csv = join(srv.dir, 'persons.csv');
  writeFileSync(csv, 'id,name,unit,national_id,passport\nIMP1,Imported One,HQ,,\nIMP2,Imported Two,HQ,,\n');
  assert.deepEqual(codes(await ask('IMP1')), ['unknown_person']);
  srv.cli('import', 'persons', csv);
  await within(3000, 'CLI import', async () => {
    const [a, b] = await Promise.all([ask('IMP1'), ask('IMP2')]);
    return !codes(a).includes('unknown_person') && !codes(b).includes('unknown_person');
  });
  const r = await ask('IMP1');
  assert.equal(r.json.allow, false);
  assert.ok(codes(r).includes('no_secret_post'), r.text);
  // The imported persons are visible through the API too.
  assert.equal((await as(sec, 'GET', '/v1/persons/IMP2')).status, 200);
});

test('the maintenance thread opens due re-reviews as the system', async () => {
  let due = await as(sec, 'GET', '/v1/due');
  assert.equal(due.status, 200, due.text);
  assert.equal(due.json.open_reviews.length, 0, due.text);
  // Key re-reviews fall due after 3 years; reminders start 90 days before.
  await call(srv, 'POST', '/v1/test/clock', { body: { now: new Date(Date.now() + (3 * 365 - 30) * 86400e3).toISOString().slice(0, 19) + 'Z' } });
  sec = await login(srv, 'secadmin');   // the old session has expired
  await within(4000, 're-reviews opened', async () => {
    due = await as(sec, 'GET', '/v1/due');
    return due.json.open_reviews.length === 3;
  });
  for (const r of due.json.open_reviews) {
    assert.equal(r.opened_by, 'system', JSON.stringify(r));
    assert.equal(r.trigger, 'rereview', JSON.stringify(r));
  }
  assert.deepEqual(due.json.open_reviews.map((r) => r.person).sort(), ['E1', 'E2', 'E3']);
  // Opened once: the next rounds find them open and add none.
  await sleep(1500);
  assert.equal((await as(sec, 'GET', '/v1/due')).json.open_reviews.length, 3);
  const aud = await login(srv, 'auditor');
  const log = await call(srv, 'GET', '/v1/audit?actor=system&action=review.open', { token: aud.token });
  assert.equal(log.status, 200, log.text);
  assert.equal(log.json.items.length, 3, log.text);
});

// Time alone lapses a clearance while the server runs: no write between,
// the single route, both batch readers (plain body: the fast one; an
// escaped one: the general parser) and the clearance view all turn at the
// very second of valid_until, naming review_expired, and the snapshot
// number stays where it was (nothing was written).
test('a clearance lapses at valid_until to the second, with no write, on every route', async () => {
  const clock = async (t) => {
    assert.equal((await call(srv, 'POST', '/v1/test/clock', { body: { now: new Date(t * 1000).toISOString().slice(0, 19) + 'Z' } })).status, 204);
    sec = await login(srv, 'secadmin');
  };
  let st = await as(sec, 'GET', '/v1/persons/E3/clearance');
  assert.equal(st.json.cleared, true, st.text);
  const until = Date.parse(st.json.valid_until) / 1000;
  const plain = { requests: [{ person: 'E3', action: 'read', object: { level: 'secret', compartments: ['ALPHA'] } }] };
  const escaped = JSON.stringify(plain).replace('"E3"', '"\\u0045\\u0033"');
  const batch = async () => [
    (await as(sec, 'POST', '/v1/decisions/batch', plain)).json,
    (await call(srv, 'POST', '/v1/decisions/batch', { token: sec.token, raw: escaped, headers: { 'Content-Type': 'application/json' } })).json,
  ];
  await clock(until - 1);
  const gen = (await ask('E3')).json.snapshot;
  for (const b of await batch()) assert.equal(b.results[0].allow, true, JSON.stringify(b));
  assert.equal((await ask('E3')).json.allow, true);
  st = await as(sec, 'GET', '/v1/persons/E3/clearance');
  assert.equal(st.json.cleared, true, st.text);
  await clock(until);
  const one = await ask('E3');
  assert.equal(one.json.allow, false, one.text);
  assert.deepEqual(codes(one), ['review_expired']);
  assert.equal(one.json.snapshot, gen, 'no write, no new snapshot');
  for (const b of await batch()) {
    assert.equal(b.results[0].allow, false, JSON.stringify(b));
    assert.deepEqual(b.results[0].reasons.map((x) => x.code), ['review_expired']);
  }
  st = await as(sec, 'GET', '/v1/persons/E3/clearance');
  assert.equal(st.json.cleared, false, st.text);
  assert.deepEqual(st.json.gates.filter((g) => !g.ok).map((g) => g.code), ['review_expired']);
  assert.equal(st.json.valid_until, null);
});

test('an invalid --maintenance-interval is refused before serving', async () => {
  for (const bad of ['0', '-5', 'soon', '99999999999']) {
    assert.throws(() => srv.cli('serve', '--listen', '127.0.0.1:0', '--maintenance-interval', bad),
      (err) => err.status === 2 && /maintenance-interval/.test(String(err.stderr)), bad);
  }
});
