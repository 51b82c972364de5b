// A decision never waits for the database.  An import, a policy store or
// the due run may hold the write lock for seconds: the writes that wait for
// it do so on the server's work lane, and a session touch that finds the
// lock taken is skipped, so the workers that answer decisions stay free.
// Here another process (the sqlite3 shell) holds the write lock; every
// decision must be answered while it still holds it, and every write
// queued meanwhile must be done once it lets go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, call, login } from './lib.mjs';

let srv, sec;
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const decide = () => call(srv, 'POST', '/v1/decisions', {
  token: sec.token, body: { person: 'E1001', action: 'read', object: { level: 'secret' } },
});

before(async () => {
  srv = await startServer({ demo: true, env: { BAOMI_TEST_CLOCK: '1' }, args: ['--threads', '2'] });
  sec = await login(srv, 'secadmin');
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Holds the database's write lock from another process for `secs` seconds.
// Resolves once it holds it; lock.held() is false from its COMMIT on.
async function holdLock(secs) {
  const p = spawn('sqlite3', ['-batch', srv.db], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lock = { on: true, held: () => lock.on };
  lock.done = new Promise((resolve) => p.on('exit', (code) => { lock.on = false; resolve(code); }));
  let out = '';
  const taken = new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) resolve();
      if (out.includes('releasing')) lock.on = false;
    });
    p.on('exit', () => reject(new Error(`sqlite3 ended before it held the lock: ${out}`)));
  });
  p.stdin.end(`.timeout 10000\nBEGIN IMMEDIATE;\n.print locked\n.system sleep ${secs}\n` +
    `.print releasing\nCOMMIT;\n`);
  await taken;
  return lock;
}

test('decisions are answered while writes wait for the write lock', async () => {
  const lock = await holdLock(3);
  // more writes than the server has workers (two): before the work lane
  // they held every worker until the lock was let go
  const writes = [1, 2, 3, 4].map((i) => call(srv, 'POST', '/v1/units', {
    token: sec.token, body: { code: `LANE${i}`, name: `lane ${i}` },
  }));
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 5; i++) {
    const d = await decide();
    assert.equal(d.status, 200, d.text);
    assert.ok(lock.held(), `decision ${i} was answered only after the lock was let go`);
  }
  assert.equal(await lock.done, 0);
  for (const w of await Promise.all(writes)) assert.equal(w.status, 201, w.text);
  const units = await call(srv, 'GET', '/v1/units?limit=1000', { token: sec.token });
  assert.deepEqual(units.json.items.map((u) => u.code).filter((c) => c.startsWith('LANE')).sort(),
    ['LANE1', 'LANE2', 'LANE3', 'LANE4']);
});

test('a decision due a session touch does not wait for the write lock', async () => {
  // two minutes on: the session's last use is due to be written again
  assert.equal((await call(srv, 'POST', '/v1/test/clock', { body: { now: iso(Date.now() + 120e3) } })).status, 204);
  const lock = await holdLock(3);
  const d = await decide();
  assert.equal(d.status, 200, d.text);
  assert.ok(lock.held(), 'the decision waited for the lock to write its session touch');
  assert.equal(await lock.done, 0);
  // the session still works, and its next touch is written
  assert.equal((await call(srv, 'GET', '/v1/session', { token: sec.token })).status, 200);
});
