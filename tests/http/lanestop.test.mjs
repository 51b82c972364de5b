// Stopping while writes queue on the work lane behind the database's write
// lock, held by another process (the sqlite3 shell).  SIGTERM: every
// client gets an answer; each write answered 2xx is in the database, each
// refused (429 busy, 503 stopping) is not, and the server exits 0 within
// its drain (10 s: the lanes start nothing in its last 5 s and refuse what
// is still queued at once).  SIGKILL: nothing half-written, the audit trail
// intact and in step with the records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { startServer, call, login, BAOMI } from './lib.mjs';

const DRAIN_S = 10;

// Holds db's write lock from another process for secs seconds; resolves,
// once it holds it, to a promise of its exit code.
async function holdLock(db, secs) {
  const p = spawn('sqlite3', ['-batch', db], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise((resolve) => p.on('exit', resolve));
  let out = '';
  const taken = new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => { out += d; if (out.includes('locked')) resolve(); });
    p.on('exit', () => reject(new Error(`sqlite3 ended before it held the lock: ${out}`)));
  });
  p.stdin.end(`.timeout 10000\nBEGIN IMMEDIATE;\n.print locked\n.system sleep ${secs}\nCOMMIT;\n`);
  await taken;
  return { done };
}

// n unit writes (codes `${tag}${i}`), each resolving to {i, status} or
// {i, err} when the connection ended unanswered.
const writes = (srv, tok, tag, n) => Array.from({ length: n }, (_, i) =>
  call(srv, 'POST', '/v1/units', { token: tok, body: { code: `${tag}${i}`, name: `${tag} ${i}` } })
    .then((r) => ({ i, status: r.status, text: r.text }), (err) => ({ i, err: String(err) })));

// The codes of tag's units in db, and whether the records agree with the
// audit trail (one unit.add per unit) and the trail verifies.
function state(db, tag) {
  const q = (sql) => execFileSync('sqlite3', ['-batch', db, sql], { encoding: 'utf8' }).trim();
  const units = q(`SELECT code FROM units WHERE code LIKE '${tag}%' ORDER BY code`).split('\n').filter(Boolean);
  const events = Number(q(`SELECT count(*) FROM audit WHERE action='unit.add' AND json_extract(fields,'$.code') LIKE '${tag}%'`));
  execFileSync(BAOMI, ['audit', 'verify'], { env: { ...process.env, BAOMI_DB: db }, stdio: 'ignore' });
  return { units: new Set(units), events };
}

test('SIGTERM with writes queued behind the write lock: answered, truthful, within the drain',
  { timeout: 60000 }, async () => {
    const srv = await startServer({ args: ['--threads', '2'] });
    const sec = await login(srv, 'secadmin');
    // longer than the drain: no write queued now can be done before it ends
    const lock = await holdLock(srv.db, DRAIN_S + 2);
    const pending = writes(srv, sec.token, 'TERM', 40);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    srv.proc.kill('SIGTERM');
    const exit = await srv.exited;
    const secs = (Date.now() - t0) / 1000;
    const res = await Promise.all(pending);
    assert.deepEqual(exit, { code: 0, sig: null });
    assert.ok(secs < DRAIN_S + 0.8, `the server exited ${secs} s after SIGTERM, past its drain`);
    assert.deepEqual(res.filter((r) => r.err), [], 'every write reached the server before SIGTERM');
    assert.ok(res.every((r) => [201, 429, 503].includes(r.status)), JSON.stringify(res.map((r) => r.status)));
    assert.ok(res.filter((r) => r.status === 503).length >= 20, 'what was still queued was refused');
    assert.equal(await lock.done, 0);
    const st = state(srv.db, 'TERM');
    for (const r of res)
      assert.equal(st.units.has(`TERM${r.i}`), r.status === 201, `TERM${r.i} answered ${r.status}`);
    assert.equal(st.events, st.units.size);
    await srv.stop();
  });

test('SIGKILL with writes queued behind the write lock leaves nothing half-written',
  { timeout: 60000 }, async () => {
    const srv = await startServer({ args: ['--threads', '2'] });
    const sec = await login(srv, 'secadmin');
    const lock = await holdLock(srv.db, 2);
    const pending = writes(srv, sec.token, 'KILL', 40);
    await new Promise((r) => setTimeout(r, 300));
    srv.proc.kill('SIGKILL');
    assert.deepEqual(await srv.exited, { code: null, sig: 'SIGKILL' });
    const res = await Promise.all(pending);
    assert.equal(await lock.done, 0);
    // nothing could be written while the lock was held, and nothing was
    // answered: no write may appear afterwards
    assert.deepEqual(res.filter((r) => !r.err), []);
    const st = state(srv.db, 'KILL');
    assert.equal(st.units.size, 0);
    assert.equal(st.events, 0);
    await srv.stop();
  });
