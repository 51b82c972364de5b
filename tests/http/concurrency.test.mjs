// Every thread of the server at once: decisions (single and batched) on
// the workers, suspensions and reinstatements (snapshot flushes), policy
// stores (every thread re-reads its policy, everyone is re-put), logins
// (offload threads), /metrics, and a CLI import in another process (the
// maintenance thread's re-read), while the read pin and the access-log
// flusher run.  The answers must stay whole and end consistent; under
// `make tsan` this is the run that lets ThreadSanitizer see those threads
// share the snapshot, the metrics and the policy generation, and the
// server must still exit 0 (TSan exits 66 after a report).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BAOMI, startServer, call, login, PASSWORDS } from './lib.mjs';

let srv, sec, sys, cleared;
const as = (method, path, body, headers) => call(srv, method, path, { token: sec.token, body, headers });
const obj = { level: 'none', compartments: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  srv = await startServer({ demo: true });
  sec = await login(srv, 'secadmin');
  sys = await login(srv, 'sysadmin');
  const list = await as('GET', '/v1/persons?limit=100');
  assert.equal(list.status, 200, list.text);
  const ids = list.json.items.map((p) => p.id);
  const st = await Promise.all(ids.map((id) => as('GET', `/v1/persons/${id}/clearance`)));
  cleared = ids.filter((id, i) => st[i].json.cleared);
  assert.ok(cleared.length >= 3, `the demo has cleared persons: ${cleared.length}`);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Suspends and reinstates id n times, each write waited for.
async function flip(id, n) {
  for (let i = 0; i < n; i++) {
    assert.equal((await as('POST', `/v1/persons/${id}/suspend`, { reason: `round ${i}` })).status, 204);
    assert.equal((await as('POST', `/v1/persons/${id}/reinstate`, { reason: `round ${i}` })).status, 204);
  }
}

// Stores the policy n times, toggling audit_denials, each from the version read.
async function policies(n) {
  for (let i = 0; i < n; i++) {
    const cur = await as('GET', '/v1/policy');
    const r = await as('PUT', '/v1/policy', { ...cur.json, audit_denials: !cur.json.audit_denials },
      { 'If-Match': cur.headers.get('etag') });
    assert.equal(r.status, 200, r.text);
  }
}

// Decides every cleared person n times, one by one and in a batch.
async function decide(n) {
  for (let i = 0; i < n; i++) {
    const one = await Promise.all(cleared.map((person) => as('POST', '/v1/decisions', { person, action: 'read', object: obj })));
    for (const r of one) assert.equal(r.status, 200, r.text);
    const b = await as('POST', '/v1/decisions/batch',
      { requests: cleared.map((person) => ({ person, action: 'read', object: obj })) });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.results.length, cleared.length);
  }
}

test('decisions, writes, policy stores, logins, metrics and a CLI import all at once', async () => {
  const csv = join(srv.dir, 'more.csv');
  const unit = (await as('GET', `/v1/persons/${cleared[0]}`)).json.unit;
  writeFileSync(csv, 'id,name,unit,national_id,passport\n' +
    Array.from({ length: 20 }, (_, i) => `CC${i},Concurrent ${i},${unit},,\n`).join(''));
  const importing = promisify(execFile)(BAOMI, ['import', 'persons', csv],
    { env: { ...process.env, BAOMI_DB: srv.db } });
  await Promise.all([
    flip(cleared[0], 4), flip(cleared[1], 4), policies(3), decide(6), importing,
    ...Array.from({ length: 3 }, () => login(srv, 'auditor', PASSWORDS.auditor)),
    ...Array.from({ length: 6 }, async () => {
      const m = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${sys.token}` } });
      assert.equal(m.status, 200);
      await m.text();
    }),
  ]);
  // Quiet again: every cleared person is allowed, the flipped ones too, and
  // the imported persons reach decisions through the maintenance thread.
  const end = await as('POST', '/v1/decisions/batch',
    { requests: cleared.map((person) => ({ person, action: 'read', object: obj })) });
  for (const [i, r] of end.json.results.entries()) assert.equal(r.allow, true, `${cleared[i]}: ${JSON.stringify(r)}`);
  for (let t = 0; ; t++) {
    const r = await as('POST', '/v1/decisions', { person: 'CC19', action: 'read', object: obj });
    if (!r.json.reasons.some((x) => x.code === 'unknown_person')) break;
    assert.ok(t < 50, 'the imported person is known to decisions within 5 s');
    await sleep(100);
  }
});
