// Self-service for the person role, the sysadmin's password reset, and the
// login counters of /metrics, all from outside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, PASSWORDS } from './lib.mjs';

let srv, sys, sec, p1, p2, lone;
const as = (who, method, path, body, opts = {}) => call(srv, method, path, { token: who.token, body, ...opts });

// An account with the person role, linked to person (or to none).
async function personAccount(name, person) {
  const pw = `${name}-password-1`;
  let r = await as(sys, 'POST', '/v1/accounts', { name, password: pw, ...(person ? { person } : {}) });
  assert.equal(r.status, 201, r.text);
  r = await as(sec, 'PUT', `/v1/accounts/${name}/roles/person`);
  assert.equal(r.status, 204, r.text);
  return login(srv, name, pw);
}

before(async () => {
  srv = await startServer({ env: { BAOMI_TEST_CLOCK: '1' } });
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  for (const id of ['E1', 'E2']) {
    const r = await as(sec, 'POST', '/v1/persons', { id, name: `Person ${id}`, unit: 'HQ', national_id: `11010519900101${id === 'E1' ? '1234' : '5678'}` });
    assert.equal(r.status, 201, r.text);
  }
  p1 = await personAccount('alice', 'E1');
  p2 = await personAccount('bob', 'E2');
  // an account named exactly like a person id, but linked to nobody
  lone = await personAccount('E2x', undefined);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('GET /v1/me shows the account and one\'s own record, sensitive fields masked', async () => {
  const r = await as(p1, 'GET', '/v1/me');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.account.name, 'alice');
  assert.deepEqual(r.json.account.roles, ['person']);
  assert.equal(r.json.person.id, 'E1');
  assert.ok(r.json.person.national_id.endsWith('1234'));
  assert.doesNotMatch(r.text, /110105199001011234/);
  assert.deepEqual(r.json.person.appointments, []);
  const none = await as(lone, 'GET', '/v1/me');
  assert.equal(none.status, 200);
  assert.equal(none.json.person, null);
});

test('own clearance, and only one\'s own', async () => {
  const r = await as(p1, 'GET', '/v1/me/clearance');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.person, 'E1');
  assert.equal(r.json.cleared, false);
  const none = await as(lone, 'GET', '/v1/me/clearance');
  assert.equal(none.status, 404);
  assert.match(none.json.detail, /no person record is linked/);
  // the officer routes stay closed to a person, whatever the id
  for (const path of ['/v1/persons/E2', '/v1/persons/E1', '/v1/persons/E2/clearance', '/v1/persons'])
    assert.equal((await as(p1, 'GET', path)).status, 403, path);
});

test('a person files and lists matters about themselves only', async () => {
  const f = await as(p2, 'POST', '/v1/me/matters', { type: 'foreign_marriage', detail: 'spouse abroad' });
  assert.equal(f.status, 201, f.text);
  assert.equal(f.json.person, 'E2');
  assert.equal(f.json.filed_by, 'bob');
  const mine = await as(p2, 'GET', '/v1/me/matters');
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.items.map((m) => m.id), [f.json.id]);
  assert.deepEqual((await as(p1, 'GET', '/v1/me/matters')).json.items, []);
  // naming someone else is not a field of this route; the officers' route is closed
  const other = await as(p1, 'POST', '/v1/me/matters', { type: 'leak', person: 'E2' });
  assert.equal(other.status, 422);
  assert.equal((await as(p1, 'POST', '/v1/matters', { person: 'E2', type: 'leak' })).status, 403);
  assert.equal((await as(lone, 'POST', '/v1/me/matters', { type: 'leak' })).status, 404);
  // the matter is on the filer's own record; a candidate holds no clearance
  // to re-review, so the report opens no review and cannot move its filer
  // into vetting (an officer opens a review)
  assert.equal(f.json.action, 'rereview');
  assert.equal(f.json.review, null);
  assert.equal((await as(sec, 'GET', '/v1/persons/E2')).json.state, 'candidate');
  assert.equal((await as(sec, 'GET', '/v1/persons/E1')).json.state, 'candidate');
});

test('bad input to the self-service routes', async () => {
  const cases = [
    [{ type: 'gossip' }, 422],
    [{ type: 42 }, 422],
    [{ type: 'leak', detail: 'x'.repeat(3000) }, 422],
    [{ type: 'leak', detail: 'bad\u0001control' }, 422],
    [{}, 422],
  ];
  for (const [body, want] of cases) {
    const r = await as(p1, 'POST', '/v1/me/matters', body);
    assert.equal(r.status, want, `${JSON.stringify(body).slice(0, 60)}: ${r.text.slice(0, 200)}`);
  }
  const junk = await call(srv, 'POST', '/v1/me/matters', { token: p1.token, raw: '[1,2', headers: { 'Content-Type': 'application/json' } });
  assert.equal(junk.status, 400);
  assert.deepEqual((await as(p1, 'GET', '/v1/me/matters')).json.items, [], 'nothing was filed');
  for (const who of [sys, sec])
    assert.equal((await as(who, 'GET', '/v1/me')).status, 403);
});

test('sysadmin resets another account\'s password: sessions end, lockout lifts, audited', async () => {
  const old = await login(srv, 'bob', 'bob-password-1');
  for (let i = 0; i < 5; i++)
    await call(srv, 'POST', '/v1/login', { body: { name: 'bob', password: 'wrong-password-0' } });
  const bob = async () => (await as(sys, 'GET', '/v1/accounts')).json.items.find((a) => a.name === 'bob');
  assert.notEqual((await bob()).locked_until, null, 'five failures lock the account');
  const g = await as(sys, 'POST', '/v1/accounts/bob/password');
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.name, 'bob');
  assert.match(g.json.password, /^[a-zA-Z2-9]{20}$/);
  assert.equal((await bob()).locked_until, null, 'the reset lifts the lockout');
  assert.equal((await as(old, 'GET', '/v1/session')).status, 401, 'its sessions ended');
  // the client address backs off on its own, and a good login does not clear
  // it: move past the quiet quarter of an hour after which it is forgotten
  const later = new Date(Date.now() + 16 * 60e3).toISOString().replace(/\.\d+Z$/, 'Z');
  assert.equal((await call(srv, 'POST', '/v1/test/clock', { body: { now: later } })).status, 204);
  await login(srv, 'bob', g.json.password);
  assert.equal((await call(srv, 'POST', '/v1/login', { body: { name: 'bob', password: 'bob-password-1' } })).status, 401);
  const given = await as(sys, 'POST', '/v1/accounts/bob/password', { password: 'chosen-password-9' });
  assert.equal(given.status, 204, given.text);
  assert.equal(given.text, '');
  await login(srv, 'bob', 'chosen-password-9');
  const log = srv.cli('audit', 'log', '--json', '--action', 'account.passwd', '--actor', 'sysadmin');
  assert.equal((log.match(/"account\.passwd"/g) ?? []).length, 2, log.slice(0, 400));
  assert.doesNotMatch(log, /chosen-password-9/);
  assert.ok(!log.includes(g.json.password));
});

test('password reset refuses itself, other roles, unknown names and bad input', async () => {
  const self = await as(sys, 'POST', '/v1/accounts/sysadmin/password', { password: 'another-password-1' });
  assert.equal(self.status, 403);
  assert.match(self.json.detail, /own password/);
  await login(srv, 'sysadmin'); // unchanged
  // three-officer separation: the sysadmin cannot take over the other two officers
  for (const officer of ['secadmin', 'auditor']) {
    const r = await as(sys, 'POST', `/v1/accounts/${officer}/password`, { password: 'taken-over-pw-1' });
    assert.equal(r.status, 403, officer);
    assert.match(r.json.detail, /three-officer separation/);
    assert.deepEqual(r.json.errors.map((x) => x.field), ['name']);
    await login(srv, officer); // the old password still works
  }
  for (const who of [sec, p1])
    assert.equal((await as(who, 'POST', '/v1/accounts/bob/password')).status, 403);
  assert.equal((await as(sys, 'POST', '/v1/accounts/ghost/password')).status, 404);
  assert.equal((await as(sys, 'POST', `/v1/accounts/${'g'.repeat(200)}/password`)).status, 404);
  const bad = [
    [{ password: 'short' }, 422],
    [{ password: 12345678901 }, 422],
    [{ password: 'p'.repeat(500) }, 422],
    [{ password: 'ok-password-1', extra: true }, 422],
    [{ password: 'tab\tpassword-1' }, 422],
  ];
  for (const [body, want] of bad) {
    const r = await as(sys, 'POST', '/v1/accounts/bob/password', body);
    assert.equal(r.status, want, `${JSON.stringify(body).slice(0, 60)}: ${r.text.slice(0, 200)}`);
  }
  await login(srv, 'bob', 'chosen-password-9'); // none of them changed it
});

// The login counters of /metrics move by exactly what happened.  The
// client address backs off after five failures too (a good login does not
// clear them), so the clock moves past its quiet quarter of an hour between
// the two rounds of failures.
test('/metrics counts logins, failures and lockouts exactly', async () => {
  const own = await startServer({ env: { BAOMI_TEST_CLOCK: '1' } });
  try {
    const admin = await login(own, 'sysadmin');
    const counters = async () => {
      const r = await fetch(own.url + '/metrics', { headers: { Authorization: `Bearer ${admin.token}` } });
      assert.equal(r.status, 200);
      const text = await r.text();
      const num = (re) => Number((text.match(re) ?? [])[1] ?? NaN);
      return {
        ok: num(/^baomi_logins_total\{result="ok"\} (\d+)$/m),
        fail: num(/^baomi_logins_total\{result="fail"\} (\d+)$/m),
        lockouts: num(/^baomi_lockouts_total (\d+)$/m),
      };
    };
    const bad = (name) => call(own, 'POST', '/v1/login', { body: { name, password: 'wrong-password-1' } });
    const t0 = await counters();
    assert.deepEqual(t0, { ok: 1, fail: 0, lockouts: 0 });
    await login(own, 'secadmin');
    for (let i = 0; i < 3; i++) assert.equal((await bad('auditor')).status, 401);
    assert.equal((await bad('ghost')).status, 401);
    await login(own, 'auditor');
    assert.deepEqual(await counters(), { ok: 3, fail: 4, lockouts: 0 }, 'four failures lock nothing');
    const later = new Date(Date.now() + 16 * 60e3).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await call(own, 'POST', '/v1/test/clock', { body: { now: later } })).status, 204);
    for (let i = 0; i < 5; i++) assert.equal((await bad('secadmin')).status, 401);
    const locked = await call(own, 'POST', '/v1/login', { body: { name: 'secadmin', password: PASSWORDS.secadmin } });
    assert.equal(locked.status, 429, locked.text);
    assert.equal((await bad('secadmin')).status, 429);
    // the fifth failure is one lockout; refused attempts while locked are not logins
    assert.deepEqual(await counters(), { ok: 3, fail: 9, lockouts: 1 });
  } finally {
    assert.deepEqual(await own.stop(), { code: 0, sig: null });
  }
});
