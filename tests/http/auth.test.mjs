// Sessions over HTTP: login, bearer and cookie, CSRF, lockout, expiry,
// logout, and the three officers' separation seen from outside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, PASSWORDS } from './lib.mjs';

let srv;
before(async () => { srv = await startServer({ env: { BAOMI_TEST_CLOCK: '1' } }); });
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('a wrong password and an unknown name get the same 401', async () => {
  const a = await call(srv, 'POST', '/v1/login', { body: { name: 'secadmin', password: 'nope-nope-1' } });
  const b = await call(srv, 'POST', '/v1/login', { body: { name: 'ghost', password: 'nope-nope-1' } });
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.equal(a.json.detail, b.json.detail);
  const ok = await login(srv, 'secadmin'); // two failures do not lock
  assert.match(ok.cookie, /baomi_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
});

test('bearer token and cookie both authenticate; no credentials is 401', async () => {
  const s = await login(srv, 'secadmin');
  assert.equal((await call(srv, 'GET', '/v1/session', { token: s.token })).json.name, 'secadmin');
  const c = s.cookie.split(';')[0];
  assert.equal((await call(srv, 'GET', '/v1/units', { cookie: c })).status, 200);
  const none = await call(srv, 'GET', '/v1/units');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await call(srv, 'GET', '/v1/units', { token: 'f'.repeat(64) })).status, 401);
});

test('a cookie write needs the CSRF header; a bearer write does not', async () => {
  const s = await login(srv, 'secadmin');
  const c = s.cookie.split(';')[0];
  const unit = { code: 'CSRF1', name: 'x' };
  const no = await call(srv, 'POST', '/v1/units', { cookie: c, body: unit });
  assert.equal(no.status, 403);
  assert.match(no.json.detail, /X-CSRF-Token/);
  const bad = await call(srv, 'POST', '/v1/units', { cookie: c, body: unit, headers: { 'X-CSRF-Token': '0'.repeat(64) } });
  assert.equal(bad.status, 403);
  const ok = await call(srv, 'POST', '/v1/units', { cookie: c, body: unit, headers: { 'X-CSRF-Token': s.csrf } });
  assert.equal(ok.status, 201);
  const br = await call(srv, 'POST', '/v1/units', { token: s.token, body: { code: 'CSRF2', name: 'y' } });
  assert.equal(br.status, 201);
});

test('logout ends the session; other sessions live on', async () => {
  const a = await login(srv, 'auditor');
  const b = await login(srv, 'auditor');
  assert.equal((await call(srv, 'POST', '/v1/logout', { token: a.token })).status, 204);
  assert.equal((await call(srv, 'GET', '/v1/session', { token: a.token })).status, 401);
  assert.equal((await call(srv, 'GET', '/v1/session', { token: b.token })).status, 200);
  const list = await call(srv, 'GET', '/v1/sessions', { token: b.token });
  assert.ok(list.json.items.some((x) => x.current && x.active));
  assert.ok(list.json.items.every((x) => x.account === 'auditor'));
});

test('three-officer separation: auditor cannot also be an officer', async () => {
  const sec = await login(srv, 'secadmin');
  const r = await call(srv, 'PUT', '/v1/accounts/auditor/roles/officer', { token: sec.token });
  assert.equal(r.status, 422);
  assert.match(r.json.detail, /three-officer separation/);
  const self = await call(srv, 'PUT', '/v1/accounts/secadmin/roles/officer', { token: sec.token });
  assert.equal(self.status, 403);
});

test('sessions expire after 30 idle minutes', async () => {
  const t0 = Date.parse('2031-03-01T08:00:00Z');
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  await call(srv, 'POST', '/v1/test/clock', { body: { now: iso(t0) } });
  const s = await login(srv, 'secadmin');
  await call(srv, 'POST', '/v1/test/clock', { body: { now: iso(t0 + 29 * 60e3) } });
  assert.equal((await call(srv, 'GET', '/v1/session', { token: s.token })).status, 200);
  await call(srv, 'POST', '/v1/test/clock', { body: { now: iso(t0 + 60 * 60e3) } });
  const r = await call(srv, 'GET', '/v1/session', { token: s.token });
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /expired/);
  await call(srv, 'POST', '/v1/test/clock', { body: { now: iso(t0 + 24 * 3600e3) } });
});

test('five failures lock the account (429 with Retry-After), audited', async () => {
  const own = await startServer();
  try {
    const codes = [];
    for (let i = 0; i < 5; i++)
      codes.push((await call(own, 'POST', '/v1/login', { body: { name: 'sysadmin', password: 'wrong-wrong-1' } })).status);
    assert.deepEqual(codes, [401, 401, 401, 401, 401]);
    const r = await call(own, 'POST', '/v1/login', { body: { name: 'sysadmin', password: PASSWORDS.sysadmin } });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    const log = own.cli('audit', 'log', '--json');
    assert.match(log, /login\.lockout/);
    assert.equal((log.match(/login\.failure/g) ?? []).length, 5);
    assert.doesNotMatch(log, /wrong-wrong-1/);
    const m = await (await fetch(own.url + '/metrics')).text();
    assert.ok(m.length > 0);
  } finally {
    assert.deepEqual(await own.stop(), { code: 0, sig: null });
  }
});
