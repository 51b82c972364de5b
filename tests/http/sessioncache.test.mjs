// The server caches validated sessions in memory.  Every test here first
// uses a session (so it is cached), then changes something the cache must
// not hide: a revocation, a logout, a disabled account, a changed role,
// idle and absolute expiry, and the same changes made by the CLI in
// another process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, call, login, passwordOf } from './lib.mjs';

let srv, sys, sec;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const clock = (ms) => call(srv, 'POST', '/v1/test/clock', { body: { now: iso(ms) } });
const whoami = (s) => call(srv, 'GET', '/v1/session', { token: s.token });

// A new account with one role (or none) and a cached session of it.  The
// officers log in afresh: a test may have moved the clock past their sessions.
async function user(name, role) {
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  const r = await call(srv, 'POST', '/v1/accounts', { token: sys.token, body: { name, password: `${name}-password-1` } });
  assert.equal(r.status, 201, r.text);
  if (role) assert.equal((await call(srv, 'PUT', `/v1/accounts/${name}/roles/${role}`, { token: sec.token })).status, 204);
  const s = await login(srv, name, `${name}-password-1`);
  const w = role ? await whoami(s) : await call(srv, 'GET', '/v1/units', { token: s.token });
  assert.equal(w.status, role ? 200 : 403, w.text);
  return s;
}

before(async () => {
  srv = await startServer({ env: { BAOMI_TEST_CLOCK: '1' } });
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('a revoked session is refused at once, even after many cached uses', async () => {
  const s = await user('cache-rev', 'officer');
  for (let i = 0; i < 20; i++) assert.equal((await call(srv, 'GET', '/v1/units', { token: s.token })).status, 200);
  const id = (await whoami(s)).json.session_id;
  assert.equal((await call(srv, 'DELETE', `/v1/sessions/${id}`, { token: s.token })).status, 204);
  const r = await call(srv, 'GET', '/v1/units', { token: s.token });
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /ended/);
});

test('another officer revoking a session ends it too', async () => {
  const s = await user('cache-rev2', 'officer');
  const id = (await whoami(s)).json.session_id;
  assert.equal((await call(srv, 'DELETE', `/v1/sessions/${id}`, { token: sys.token })).status, 204);
  assert.equal((await whoami(s)).status, 401);
});

test('a logged-out session is refused; a second session of the account lives on', async () => {
  const a = await user('cache-out', 'officer');
  const b = await login(srv, 'cache-out', 'cache-out-password-1');
  assert.equal((await whoami(b)).status, 200);
  assert.equal((await call(srv, 'POST', '/v1/logout', { token: a.token })).status, 204);
  assert.equal((await whoami(a)).status, 401);
  assert.equal((await whoami(b)).status, 200);
});

test('disabling an account ends its cached sessions', async () => {
  const s = await user('cache-dis', 'officer');
  assert.equal((await call(srv, 'POST', '/v1/accounts/cache-dis/disable', { token: sys.token })).status, 204);
  const r = await whoami(s);
  assert.equal(r.status, 401);
});

test('a granted or revoked role takes effect on the next request', async () => {
  // made at the console, so its password is its own (not a temporary one)
  writeFileSync(join(srv.dir, 'cache-role.pw'), 'cache-role-password-1\n');
  srv.cli('account', 'add', 'cache-role', '--password-file', join(srv.dir, 'cache-role.pw'));
  const s = await login(srv, 'cache-role', 'cache-role-password-1');
  assert.equal((await call(srv, 'GET', '/v1/units', { token: s.token })).status, 403);
  assert.equal((await call(srv, 'PUT', '/v1/accounts/cache-role/roles/officer', { token: sec.token })).status, 204);
  const u = await call(srv, 'GET', '/v1/units', { token: s.token });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual((await whoami(s)).json.roles, ['officer']);
  assert.equal((await call(srv, 'DELETE', '/v1/accounts/cache-role/roles/officer', { token: sec.token })).status, 204);
  assert.equal((await call(srv, 'GET', '/v1/units', { token: s.token })).status, 403);
  assert.equal((await whoami(s)).status, 403); // no role left, not even session.own
});

test('a password change ends the account\'s other sessions', async () => {
  const a = await user('cache-pw', 'officer');
  const b = await login(srv, 'cache-pw', 'cache-pw-password-1');
  assert.equal((await whoami(b)).status, 200);
  const r = await call(srv, 'POST', '/v1/password', { token: a.token, body: { old_password: passwordOf(srv, 'cache-pw', 'cache-pw-password-1'), new_password: 'cache-pw-password-2' } });
  assert.equal(r.status, 204, r.text);
  assert.equal((await whoami(b)).status, 401);
});

test('idle expiry counts from the last use the server answered, to the second', async () => {
  const t0 = Date.parse('2032-05-01T08:00:00Z');
  await clock(t0);
  const s = await user('cache-idle', 'officer');
  await clock(t0 + 29 * 60e3);            // used 29 min after login: still valid
  assert.equal((await whoami(s)).status, 200);
  await clock(t0 + 29 * 60e3 + 30e3);     // 30 s later: last_seen is not rewritten yet
  assert.equal((await whoami(s)).status, 200);
  await clock(t0 + 59 * 60e3 + 30e3);     // exactly 30 min after the last use
  assert.equal((await whoami(s)).status, 200);
  await clock(t0 + 89 * 60e3 + 31e3);     // 30 min and 1 s after it
  const r = await whoami(s);
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /expired/);
  await clock(t0 + 48 * 3600e3);
});

test('absolute expiry after 12 hours holds however busy the session is', async () => {
  const t0 = Date.parse('2032-06-01T08:00:00Z');
  await clock(t0);
  const s = await user('cache-abs', 'officer');
  let t = t0;
  for (; t <= t0 + 12 * 3600e3 - 20 * 60e3; t += 20 * 60e3) {
    await clock(t);
    const r = await whoami(s);
    assert.equal(r.status, 200, iso(t) + ' ' + r.text);
  }
  await clock(t0 + 12 * 3600e3 - 1e3);
  assert.equal((await whoami(s)).status, 200);
  await clock(t0 + 12 * 3600e3);
  const r = await whoami(s);
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /expired/);
  await clock(t0 + 48 * 3600e3);
});

test('changes made by the CLI in another process are seen at once', async () => {
  const a = await user('cache-cli', 'officer');
  srv.cli('role', 'revoke', 'cache-cli', 'officer');
  assert.equal((await call(srv, 'GET', '/v1/units', { token: a.token })).status, 403);
  srv.cli('account', 'disable', 'cache-cli');
  assert.equal((await whoami(a)).status, 401);
});

test('a flood of unknown tokens does not evict or admit anything', async () => {
  const s = await user('cache-flood', 'officer');
  for (let k = 0; k < 300; k += 30) {
    const bad = [];
    for (let i = k; i < k + 30; i++) bad.push(call(srv, 'GET', '/v1/session', { token: i.toString(16).padStart(64, 'a') }));
    for (const r of await Promise.all(bad)) assert.equal(r.status, 401);
  }
  assert.equal((await whoami(s)).status, 200);
});
