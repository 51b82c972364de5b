// A database edited by hand while the server runs, and a server started on
// it: one person's damaged row must deny that person (record_damaged) and
// leave everyone else's decisions alone.  Before, one malformed compartment
// list failed the whole snapshot: the running server's re-read failed on
// every poll (decisions went on from the stale entry, which still allowed),
// and a server started on the file never became ready while every decision
// was refused with 422 "bad compartment code", blaming the request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { startServer, call, login, BAOMI } from './lib.mjs';

let srv, sec;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ask = (s, tok, person) => call(s, 'POST', '/v1/decisions',
  { token: tok.token, body: { person, action: 'read', object: { level: 'confidential' } } });
const sql = (q) => execFileSync('sqlite3', [srv.db, q], { encoding: 'utf8' }).trim();

before(async () => {
  srv = await startServer({ demo: true });
  sec = await login(srv, 'secadmin');
});
after(async () => { await srv?.stop(); });

// Two persons the demo clears at confidential or above.
async function twoAllowed() {
  const ids = sql('SELECT ext_id FROM persons WHERE state = 3 AND level > 0 ORDER BY id').split('\n');
  const ok = [];
  for (const id of ids) {
    if ((await ask(srv, sec, id)).json.allow) ok.push(id);
    if (ok.length === 2) return ok;
  }
  assert.fail(`the demo has fewer than two cleared persons: ${ids.join()}`);
}

// Polls fn every 100 ms until it returns true; fails after ms.
async function within(ms, what, fn) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    assert.ok(Date.now() < end, `${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

// Starts one more server on srv's database; resolves to {url, proc}.
function serveAgain() {
  const proc = spawn(BAOMI, ['serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, BAOMI_DB: srv.db }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ url: m[1], proc, stderr: () => err });
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

test('a damaged row denies its person, on the running server and on one started after', async () => {
  const [a, b] = await twoAllowed();
  sql(`UPDATE persons SET compartments = '{"a":1}' WHERE ext_id = '${a}'`);
  // An edit with the shell appends no audit event, so the running server
  // re-reads it with the next write another process commits (OPERATIONS.md):
  // that re-read of everyone must go through.
  srv.cli('unit', 'add', 'TAMPER-X', '--name', 'after the edit');
  await within(5000, 'the re-read', async () => {
    const r = await ask(srv, sec, a);
    return !r.json.allow && r.json.reasons.some((x) => x.code === 'record_damaged');
  });
  assert.equal((await ask(srv, sec, b)).json.allow, true);
  const c = await call(srv, 'GET', `/v1/persons/${a}/clearance`, { token: sec.token });
  assert.equal(c.status, 500, c.text);
  assert.equal(c.json.type, 'urn:baomi:problem:schema');
  // the log (written within 200 ms) names the row; the re-read failed nothing
  const named = new RegExp(`damaged database: persons row \\d+ \\(${a}\\): compartments`);
  await within(2000, 'the log line', async () => named.test(srv.stderr()));
  assert.doesNotMatch(srv.stderr(), /maintenance_error/);

  // start-up loads every person: the damaged one is denied, the server ready
  const s2 = await serveAgain();
  try {
    await within(10000, 'readiness', async () => (await fetch(`${s2.url}/readyz`)).status === 200);
    const tok = await login(s2, 'secadmin');
    const r = await ask(s2, tok, a);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.reasons.map((x) => x.code), ['record_damaged']);
    assert.equal((await ask(s2, tok, b)).json.allow, true);
    const batch = await call(s2, 'POST', '/v1/decisions/batch', { token: tok.token, body: { requests: [
      { person: a, action: 'read', object: { level: 'confidential' } },
      { person: b, action: 'read', object: { level: 'confidential' } }] } });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual(batch.json.results.map((x) => x.allow), [false, true]);
  } finally {
    s2.proc.kill('SIGTERM');
    await new Promise((r) => s2.proc.on('exit', r));
  }
  assert.doesNotMatch(s2.stderr(), /Sanitizer|runtime error/);
});
