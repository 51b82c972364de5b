// The due run (the maintenance thread, every second here) racing officers
// opening the same re-reviews over HTTP: each person due ends with exactly
// one open re-review, whoever opened it, and a renewed review is not
// reopened.  The scan of the due run happens before its write lock; what
// it picked is made again under the lock (test_clearance
// test_due_run_after_a_renewal_opens_nothing covers the renewal in between
// deterministically).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, account as makeAccount } from './lib.mjs';

let srv, sys, sec, rv, of1, of2;
const as = (who, method, path, body, headers) => call(srv, method, path, { token: who.token, body, headers });
const ids = Array.from({ length: 6 }, (_, i) => `DR${i}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function relogin() {
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  [rv, of1, of2] = await Promise.all(['drv', 'dof1', 'dof2'].map((n) => login(srv, n, `${n}-password-1`)));
}

// Records six clear findings on review id and approves it; its valid_until.
async function renew(id) {
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${id}/items/${i}`, { finding: 'clear' })).status, 200);
  const d = await as(rv, 'POST', `/v1/reviews/${id}/decision`, { approve: true, reason: 'ok' }, { 'If-Match': '*' });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.state, 'approved');
  return d.json.valid_until;
}

before(async () => {
  srv = await startServer({ env: { BAOMI_TEST_CLOCK: '1' }, args: ['--maintenance-interval', '1', '--threads', '8'] });
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  rv = await makeAccount(srv, { sys, sec }, 'drv', 'reviewer');
  of1 = await makeAccount(srv, { sys, sec }, 'dof1', 'officer');
  of2 = await makeAccount(srv, { sys, sec }, 'dof2', 'officer');
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/posts', { code: 'P', unit: 'HQ', level: 'secret' })).status, 201);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('the due run and officers opening the same re-reviews at once: one open review each', async () => {
  let until;
  const seen = [];
  for (const id of ids) {
    assert.equal((await as(sec, 'POST', '/v1/persons', { id, name: id, unit: 'HQ' })).status, 201);
    const o = await as(sec, 'POST', '/v1/reviews', { person: id, level: 'secret' });
    until = await renew(o.json.id);
    assert.equal((await as(sec, 'POST', '/v1/appointments', { person: id, post: 'P' })).status, 201);
    assert.equal((await as(sec, 'POST', `/v1/persons/${id}/activate`)).status, 204);
  }
  for (let round = 0; round < 2; round++) {
    // ten minutes before the 90-day reminder (sessions end with a jump of
    // years: log in again there), then a minute past it: the due run and
    // the officers start together
    const at = (ms) => new Date(Date.parse(until) - 90 * 86400e3 + ms).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await call(srv, 'POST', '/v1/test/clock', { body: { now: at(-600e3) } })).status, 204);
    await relogin();
    assert.equal((await call(srv, 'POST', '/v1/test/clock', { body: { now: at(60e3) } })).status, 204);
    // officers open each person's re-review for a while, starting one after
    // another across a maintenance interval, so that the run and they meet
    await Promise.all(ids.map(async (person, i) => {
      await sleep(i * 200);
      for (let k = 0; k < 6; k++) {
        const got = await Promise.all([of1, of2].map((o) => as(o, 'POST', '/v1/reviews', { person, level: 'secret' })));
        for (const g of got) assert.ok([201, 409].includes(g.status), g.text);
        await sleep(30);
      }
    }));
    await sleep(1200);   // one more maintenance run: it must open nothing more
    const open = await as(sec, 'GET', '/v1/reviews?state=open&limit=1000');
    assert.deepEqual(open.json.items.map((r) => r.person).sort(), [...ids].sort(), JSON.stringify(open.json.items));
    const openers = new Set(open.json.items.map((r) => r.opened_by));
    seen.push(...openers);
    for (const r of open.json.items) until = await renew(r.id);
    // renewed: the next runs open nothing
    await sleep(1200);
    assert.deepEqual((await as(sec, 'GET', '/v1/reviews?state=open')).json.items, [], `round ${round}, openers ${[...openers]}`);
  }
  // both sides opened some: the race was run, not one side alone
  assert.ok(seen.includes('system') && seen.some((n) => n.startsWith('dof')), seen.join());
});
