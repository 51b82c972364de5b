// A hostile client's attempts on accounts, roles and the login backoff
// (adversarial review).  Each test is an attack that once worked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, call, login } from './lib.mjs';

let srv, sys, sec;
const as = (who, method, path, body) => call(srv, method, path, { token: who.token, body });

before(async () => {
  srv = await startServer();
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Two accounts linked to one person are one person: three-officer separation
// (DESIGN.md §1.8: distinct people) holds across them, and nobody changes the
// roles of an account that is theirs through the person link.
test('one person cannot hold two officer roles through two accounts', async () => {
  for (const name of ['alice-sec', 'alice-self'])
    assert.equal((await as(sys, 'POST', '/v1/accounts', { name, password: `${name}-password-1`, person: 'P-ALICE' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/alice-sec/roles/secadmin')).status, 204);
  // secadmin (the officer) makes alice's other account the system administrator
  let r = await as(sec, 'PUT', '/v1/accounts/alice-self/roles/sysadmin');
  assert.equal(r.status, 422, `one person holds secadmin and sysadmin: ${r.text}`);
  assert.match(r.json.detail, /three-officer separation/);
  r = await as(sec, 'PUT', '/v1/accounts/alice-self/roles/auditor');
  assert.equal(r.status, 422, `one person holds secadmin and auditor: ${r.text}`);
  // alice, as secadmin, changes the roles of her own other account
  const alice = await login(srv, 'alice-sec', 'alice-sec-password-1');
  r = await as(alice, 'PUT', '/v1/accounts/alice-self/roles/reviewer');
  assert.equal(r.status, 403, `alice granted a role to herself: ${r.text}`);
  // another person's account is still granted as before
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'bob-sys', password: 'bob-sys-password-1', person: 'P-BOB' })).status, 201);
  assert.equal((await as(alice, 'PUT', '/v1/accounts/bob-sys/roles/sysadmin')).status, 204);
});

// role_check_takeover covers disabling too: a system administrator who could
// disable the secadmin's or the auditor's account could silence the officer
// who watches them (no API brings a disabled account back).
test('sysadmin cannot disable the secadmin or the auditor over the API', async () => {
  for (const name of ['auditor', 'secadmin']) {
    const r = await as(sys, 'POST', `/v1/accounts/${name}/disable`);
    assert.equal(r.status, 403, `sysadmin disabled ${name}: ${r.text}`);
    assert.equal(r.json.errors?.[0]?.field ?? 'name', 'name');
  }
  assert.equal((await call(srv, 'GET', '/v1/session', { token: sec.token })).status, 200);
  const aud = await login(srv, 'auditor');
  assert.equal((await call(srv, 'GET', '/v1/audit', { token: aud.token })).status, 200);
  // an account that holds neither is disabled as before
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'plain-1', password: 'plain-1-password-1' })).status, 201);
  assert.equal((await as(sys, 'POST', '/v1/accounts/plain-1/disable')).status, 204);
});

// A login from a chosen loopback source address (Linux routes all of 127/8
// to lo), so tests can play several clients.
function loginFrom(addr, name, password, server = srv) {
  const u = new URL(server.url + '/v1/login');
  const body = JSON.stringify({ name, password });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      localAddress: addr, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (r) => {
      let text = '';
      r.on('data', (d) => { text += d; });
      r.on('end', () => resolve({ status: r.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const failFrom = (addr, i) => loginFrom(addr, `ghost-${i}`, 'wrong-password-1');

// The per-address backoff is what stops one client spraying guesses over
// many accounts; a login that works, from that client, says nothing about
// the guesses before it.
test('a successful login does not wipe the failures of its address', async () => {
  const addr = '127.0.0.21';
  for (let i = 0; i < 4; i++) assert.equal((await failFrom(addr, i)).status, 401);
  assert.equal((await loginFrom(addr, 'secadmin', 'secadmin-password-1')).status, 200);
  assert.equal((await failFrom(addr, 4)).status, 401);
  const r = await failFrom(addr, 5);
  assert.equal(r.status, 429, `five failures from one address, one success between them, and no backoff: ${r.text}`);
});

// The server's old table of addresses (FNV-1a of the text, 1024 slots, a newcomer
// evicts): two addresses the attacker picked to share a slot.
function fnvSlot(s) {
  let h = 2166136261;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h % 1024;
}

test('a failure from another address never lifts an address\'s backoff', async () => {
  const a = '127.0.0.31';
  let b = null;
  for (let x = 1; b === null; x++) {
    const c = `127.0.${1 + (x >> 8)}.${x & 255}`;
    if (c !== a && fnvSlot(c) === fnvSlot(a)) b = c;
  }
  for (let i = 0; i < 5; i++) assert.equal((await failFrom(a, i)).status, 401);
  assert.equal((await failFrom(a, 5)).status, 429);
  assert.equal((await failFrom(b, 6)).status, 401);
  const r = await failFrom(a, 7);
  assert.equal(r.status, 429, `${b}'s failure lifted ${a}'s backoff: ${r.text}`);
});

// One's own password changes only with the old one, so that a stolen session
// cannot take the account for good; that holds only if the old one cannot be
// guessed through the session without limit.
test('guessing the old password through a session backs off like a login', async () => {
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'pw-victim', password: 'pw-victim-password-1' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/pw-victim/roles/reviewer')).status, 204);
  const stolen = await login(srv, 'pw-victim', 'pw-victim-password-1');
  for (let i = 0; i < 5; i++) {
    const r = await as(stolen, 'POST', '/v1/password', { old_password: `guess-number-${i}`, new_password: 'taken-over-password-1' });
    assert.equal(r.status, 403, r.text);
  }
  const r = await as(stolen, 'POST', '/v1/password', { old_password: 'pw-victim-password-1', new_password: 'taken-over-password-1' });
  assert.equal(r.status, 429, `a sixth guess of the old password was still tried: ${r.text}`);
});

// Password hashing is bounded to two at a time, and a login waiting for its
// turn must not hold a server worker: a burst of anonymous logins from many
// addresses (each under its own backoff) would stall every other request
// for seconds.  Logins run on offload threads with their connection
// suspended.
test('a burst of logins from many addresses does not stall other requests', async () => {
  const t = Array.from({ length: 100 }, (_, i) => loginFrom(`127.0.4.${i + 1}`, `ghost-b${i}`, 'wrong-password-1'));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  assert.equal((await call(srv, 'GET', '/v1/session', { token: sec.token })).status, 200);
  const ms = Date.now() - t0;
  const results = await Promise.all(t);
  assert.ok(ms < 1000, `an authenticated GET waited ${ms} ms behind 100 logins`);
  // each is answered: checked (401), or refused at once while the queue of
  // logins waiting for a hashing slot is full (503 with Retry-After)
  assert.ok(results.every((r) => r.status === 401 || r.status === 503), 'every login was answered');
  assert.ok(results.filter((r) => r.status === 401).length >= 64, 'the queue took what it holds');
});

// SIGTERM while logins wait on the offload threads: each queued login is
// answered (its connection was suspended, and libmicrohttpd may not stop
// with one still suspended), and the server exits 0.
test('SIGTERM with logins queued answers them and exits 0', async () => {
  const own = await startServer();
  const t = Array.from({ length: 40 }, (_, i) =>
    loginFrom(`127.0.5.${i + 1}`, `ghost-s${i}`, 'wrong-password-1', own).catch((err) => ({ err })));
  await new Promise((r) => setTimeout(r, 100));
  const exit = own.stop();
  const results = await Promise.all(t);
  assert.deepEqual(await exit, { code: 0, sig: null });
  // every request that reached the server before SIGTERM has its answer
  const answered = results.filter((r) => r.status !== undefined);
  assert.ok(answered.length > 0 && answered.every((r) => r.status === 401),
    JSON.stringify(results.slice(0, 5)));
});

// The system administrator sets the first password of every account made
// over the API.  Made auditor later by the secadmin, such an account would
// let the sysadmin read the audit trail as it, unseen.  A password another
// account set is temporary: until its holder changes it, the session may
// only change it (and see itself, and log out).
test('a password another account set allows nothing but changing it', async () => {
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'aud-2', password: 'set-by-sysadmin-1' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/aud-2/roles/auditor')).status, 204);
  let r = await call(srv, 'POST', '/v1/login', { body: { name: 'aud-2', password: 'set-by-sysadmin-1' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.password_change_required, true);
  const tmp = { token: r.json.token };
  r = await as(tmp, 'GET', '/v1/audit');
  assert.equal(r.status, 403, `the temporary password read the audit trail: ${r.text}`);
  assert.equal(r.json.errors[0].field, 'password');
  assert.equal((await as(tmp, 'POST', '/v1/audit/verify')).status, 403);
  assert.equal((await as(tmp, 'GET', '/v1/session')).status, 200);
  r = await as(tmp, 'POST', '/v1/password', { old_password: 'set-by-sysadmin-1', new_password: 'chosen-by-holder-1' });
  assert.equal(r.status, 204, r.text);
  r = await call(srv, 'POST', '/v1/login', { body: { name: 'aud-2', password: 'chosen-by-holder-1' } });
  assert.equal(r.json.password_change_required, false);
  assert.equal((await call(srv, 'GET', '/v1/audit', { token: r.json.token })).status, 200);
  // a reset by the sysadmin makes it temporary again (a reviewer's: an
  // auditor's may not be reset over the API at all)
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'rev-9', password: 'rev-9-password-1' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/rev-9/roles/reviewer')).status, 204);
  await login(srv, 'rev-9', 'rev-9-password-1');            // changes it, as its holder
  assert.equal((await as(sys, 'POST', '/v1/accounts/rev-9/password', { password: 'reset-by-sys-1' })).status, 204);
  r = await call(srv, 'POST', '/v1/login', { body: { name: 'rev-9', password: 'reset-by-sys-1' } });
  assert.equal(r.json.password_change_required, true);
  assert.equal((await call(srv, 'GET', '/v1/reviews', { token: r.json.token })).status, 403);
});

// Anyone can lock an account by failing five times under its name, and the
// three officers' names are public.  The lockout must not keep the holder
// out of the workstation they use: a client address the account logged in
// from lately is not held back by it (its own address backoff still is).
test('a lockout keeps strangers out, not the holder at their usual address', async () => {
  assert.equal((await as(sys, 'POST', '/v1/accounts', { name: 'lock-me', password: 'lock-me-password-1' })).status, 201);
  assert.equal((await as(sec, 'PUT', '/v1/accounts/lock-me/roles/reviewer')).status, 204);
  // the holder's first login from their workstation (and the password change)
  let r = await loginFrom('127.0.6.1', 'lock-me', 'lock-me-password-1');
  assert.equal(r.status, 200, r.text);
  const tok = JSON.parse(r.text).token;
  const c = await as({ token: tok }, 'POST', '/v1/password', { old_password: 'lock-me-password-1', new_password: 'lock-me-password-2' });
  assert.equal(c.status, 204, c.text);
  // an attacker fails five times from five addresses: the account locks
  for (let i = 0; i < 5; i++)
    assert.equal((await loginFrom(`127.0.6.${10 + i}`, 'lock-me', 'wrong-password-1')).status, 401);
  r = await loginFrom('127.0.6.20', 'lock-me', 'lock-me-password-2');
  assert.equal(r.status, 429, `a stranger's address was let through the lockout: ${r.text}`);
  // the holder, at their usual address, still gets in
  r = await loginFrom('127.0.6.1', 'lock-me', 'lock-me-password-2');
  assert.equal(r.status, 200, r.text);
});
