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
import { execFileSync } from 'node:child_process';
import { startServer, spawnServer, call, login } from './lib.mjs';

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
async function holdLock(secs, db = srv.db) {
  const p = spawn('sqlite3', ['-batch', db], { stdio: ['pipe', 'pipe', 'inherit'] });
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

// A session used only while another process held the write lock: every
// touch was skipped.  This process keeps it (its cache saw each use), and
// the first use after the lock is let go must write its last use, so that
// a restart does not end it as idle 55 minutes after its login while it
// was used a minute ago.  Before, each skipped touch counted as written,
// and the store kept the login time.
test('a session used while the write lock was held survives a restart', async () => {
  const own = await startServer({ env: { BAOMI_TEST_CLOCK: '1' }, args: ['--threads', '2'] });
  let again;
  try {
    const t0 = Date.now();
    const clock = (s, min) => call(s, 'POST', '/v1/test/clock', { body: { now: iso(t0 + min * 60e3) } });
    const me = await login(own, 'secadmin');
    const session = async (s) => (await call(s, 'GET', '/v1/session', { token: me.token })).status;
    const lastSeenMin = () => (Number(execFileSync('sqlite3', [own.db, 'SELECT max(last_seen) FROM sessions'],
      { encoding: 'utf8' })) * 1000 - t0) / 60e3;
    // the snapshot loaded and the first due run done: the maintenance
    // thread's writes are not what the touches below meet
    for (let i = 0; i < 100 && (await call(own, 'GET', '/readyz')).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 100));
    const lock = await holdLock(3, own.db);
    for (const min of [20, 40, 55]) {
      assert.equal((await clock(own, min)).status, 204);
      assert.equal(await session(own), 200, `used at +${min} min`);
    }
    assert.ok(lock.held(), 'the lock was let go too early for the test to mean anything');
    assert.equal(await lock.done, 0);
    assert.ok(lastSeenMin() < 1, 'a touch was written while the lock was held');
    // used again half a minute after the last skipped touch: it is
    // written (a writer of the server's own, such as its due run, may
    // still take the lock from one request: then the next writes it)
    assert.equal((await clock(own, 55.5)).status, 204);
    for (let i = 0; i < 20 && lastSeenMin() < 1; i++) {
      assert.equal(await session(own), 200);
      if (lastSeenMin() < 1) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(Math.abs(lastSeenMin() - 55.5) < 0.1, `the store says last used at +${lastSeenMin()} min`);
    own.proc.kill('SIGTERM');
    assert.deepEqual(await own.exited, { code: 0, sig: null });
    again = await spawnServer(['--threads', '2'], { ...process.env, BAOMI_DB: own.db, BAOMI_TEST_CLOCK: '1' });
    assert.equal((await clock(again, 57)).status, 204);
    assert.equal(await session(again), 200, 'the restarted server ended a session used 1.5 minutes ago');
  } finally {
    if (again) {
      const gone = new Promise((r) => again.proc.on('exit', r));
      again.proc.kill('SIGTERM');
      await gone;
    }
    await own.stop();
  }
});

// --work-threads sets the work lane's threads: with one, a second write
// waits in its queue while the first waits for the lock, and /metrics says so.
test('serve --work-threads 1 runs one write at a time, and /metrics shows the one waiting', async () => {
  const one = await startServer({ args: ['--work-threads', '1'] });
  try {
    const sys1 = await login(one, 'sysadmin');
    const sec1 = await login(one, 'secadmin');
    const lock = await holdLock(3, one.db);
    const writes = [1, 2].map((i) => call(one, 'POST', '/v1/units', {
      token: sec1.token, body: { code: `ONE${i}`, name: 'one' },
    }));
    let waiting = null;
    for (let i = 0; i < 50 && waiting !== '1'; i++) {
      const m = await call(one, 'GET', '/metrics', { token: sys1.token });
      waiting = m.text.match(/^baomi_http_lane_waiting\{lane="work"\} (\d+)$/m)?.[1];
      if (waiting !== '1') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(waiting, '1', 'one write waits for the one work thread');
    assert.ok(lock.held(), 'seen while the lock was held');
    assert.equal(await lock.done, 0);
    for (const w of await Promise.all(writes)) assert.equal(w.status, 201, w.text);
  } finally {
    assert.deepEqual(await one.stop(), { code: 0, sig: null });
  }
});
