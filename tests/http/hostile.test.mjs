// What a hostile or unlucky deployment does to the vetting rules over HTTP:
// another process changing the policy while the server runs, and the same
// person or review edited from several connections at once.  Each outcome
// must be one serial order of the writes, under the rules stored at the
// instant each write commits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, call, login, BAOMI, reviewDecision } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv, sys, sec, revs;
const as = (who, method, path, body) => call(srv, method, path, { token: who.token, body });

// A review of person at level with six clear findings, opened by secadmin.
async function readyReview(person, level) {
  let r = await as(sec, 'POST', '/v1/persons', { id: person, name: `Person ${person}`, unit: 'HQ' });
  assert.equal(r.status, 201, r.text);
  r = await as(sec, 'POST', '/v1/reviews', { person, level });
  assert.equal(r.status, 201, r.text);
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${r.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
  return r.json.id;
}

before(async () => {
  // No maintenance round during the tests: what the server knows of other
  // processes' writes must not depend on when it last looked.
  srv = await startServer({ args: ['--maintenance-interval', '3600'] });
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  revs = [];
  for (const name of ['rev-a', 'rev-b', 'rev-c']) {
    assert.equal((await as(sys, 'POST', '/v1/accounts', { name, password: `${name}-password-1` })).status, 201);
    assert.equal((await as(sec, 'PUT', `/v1/accounts/${name}/roles/reviewer`)).status, 204);
    revs.push(await login(srv, name, `${name}-password-1`));
  }
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  const p = await as(sec, 'POST', '/v1/posts', { code: 'P-S', unit: 'HQ', level: 'secret', compartments: ['A'] });
  assert.equal(p.status, 201, p.text);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('a policy stored by the CLI binds the server\'s next write at once', async () => {
  const rid = await readyReview('PV1', 'secret');
  const pol = (await as(sec, 'GET', '/v1/policy')).json;
  delete pol.version;
  assert.equal(pol.categories.key.approvers, 1);
  pol.categories.key.approvers = 2;
  pol.categories.key.rereview_days = 100;
  const file = join(srv.dir, 'two-approvers.json');
  writeFileSync(file, JSON.stringify(pol));
  srv.cli('policy', 'load', file);
  // The CLI has committed the policy: from now on a key review needs two
  // approvers and holds 100 days, whatever the server has noticed yet.
  let r = await reviewDecision(srv, revs[0], rid, { approve: true, reason: 'first' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'open', `one approval closed a review the stored policy gives two: ${r.text}`);
  r = await reviewDecision(srv, revs[1], rid, { approve: true, reason: 'second' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'approved', r.text);
  const days = (Date.parse(r.json.valid_until) - Date.parse(r.json.decided_at)) / 86400e3;
  assert.equal(Math.round(days), 100, r.text);
});

test('a matter does what the stored policy says, even a type the server has not seen', async () => {
  let r = await as(sec, 'POST', '/v1/persons', { id: 'PV2', name: 'Person PV2', unit: 'HQ' });
  assert.equal(r.status, 201, r.text);
  const pol = (await as(sec, 'GET', '/v1/policy')).json;
  delete pol.version;
  pol.matters.family_abroad = { action: 'suspend' };
  pol.matters.dual_nationality = { action: 'suspend' };
  const file = join(srv.dir, 'stricter-matters.json');
  writeFileSync(file, JSON.stringify(pol));
  srv.cli('policy', 'load', file);
  for (const type of ['family_abroad', 'dual_nationality']) {
    r = await as(sec, 'POST', '/v1/matters', { person: 'PV2', type });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.action, 'suspend', r.text);
  }
  // The suspensions are on record: reinstating lifts them (409 when none).
  r = await as(sec, 'POST', '/v1/persons/PV2/reinstate', { reason: 'explained' });
  assert.equal(r.status, 204, r.text);
});

test('every thread reads a CLI-stored policy, even once a write has put the snapshot under it', async () => {
  // PV3 is vetted and put on post by the console two days ago (BAOMI_NOW):
  // cleared under the stored policy, lapsed once key reviews fall due daily.
  const now = Math.floor(Date.now() / 1000);
  const past = (...args) => execFileSync(BAOMI, args, {
    env: { ...process.env, BAOMI_DB: srv.db, BAOMI_NOW: String(now - 2 * 86400) }, encoding: 'utf8',
  });
  past('person', 'add', 'PV3', '--name', 'PV3', '--unit', 'HQ');
  const rid = JSON.parse(past('review', 'open', 'PV3', '--level', 'secret', '--json')).id;
  for (let i = 1; i <= 6; i++) past('review', 'finding', String(rid), String(i), 'clear');
  // Earlier tests' policy may want two approvers.
  for (const rv of ['rev-a', 'rev-b']) {
    const v = JSON.parse(past('--as', rv, 'review', 'approve', String(rid), '--reason', 'ok', '--json'));
    if (v.state === 'approved') break;
  }
  past('appointment', 'add', 'PV3', 'P-S');
  past('activate', 'PV3');
  const status = () => as(sec, 'GET', '/v1/persons/PV3/clearance');
  const ask = () => as(sec, 'POST', '/v1/decisions', { person: 'PV3', action: 'read', object: { level: 'secret' } });
  for (const end = Date.now() + 4000; !(await ask()).json.allow;) {
    assert.ok(Date.now() < end, 'the console\'s writes never reached the server');
    await sleep(100);
  }
  assert.equal((await status()).json.cleared, true);
  const pol = (await as(sec, 'GET', '/v1/policy')).json;
  delete pol.version;
  pol.categories.key.rereview_days = 1;
  const file = join(srv.dir, 'daily-rereview.json');
  writeFileSync(file, JSON.stringify(pol));
  srv.cli('policy', 'load', file);
  // A write right away runs under the new policy and re-puts everyone.
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'PV4', name: 'PV4', unit: 'HQ' })).status, 201);
  const d = (await ask()).json;
  assert.equal(d.allow, false);
  assert.deepEqual(d.reasons.map((x) => x.code), ['review_expired']);
  // Status on every thread follows within the sync period (1 s), not never.
  const end = Date.now() + 4000;
  for (;;) {
    const all = await Promise.all(Array.from({ length: 16 }, status));
    if (all.every((x) => x.json.cleared === false)) break;
    assert.ok(Date.now() < end, `a thread still reads the old policy: ${all.find((x) => x.json.cleared).text}`);
    await sleep(100);
  }
});

// Two officers edit the policy from the same version at once: exactly one
// version is stored, the other edit gets 412 and is lost to nobody unseen;
// without If-Match the edit is refused (428) and nothing is stored.
test('PUT /v1/policy needs If-Match: of two edits from one version exactly one wins', async () => {
  const got = await as(sec, 'GET', '/v1/policy');
  const tag = got.headers.get('etag');
  assert.equal(tag, `W/"${got.json.version}"`);
  const body = (days) => { const p = { ...got.json }; delete p.version;
    p.categories = { ...p.categories, general: { ...p.categories.general, rereview_days: days } }; return p; };
  const put = (days, headers) => call(srv, 'PUT', '/v1/policy', { token: sec.token, body: body(days), headers });
  let r = await put(400, {});
  assert.equal(r.status, 428, r.text);
  r = await put(400, { 'If-Match': '"nope"' });
  assert.equal(r.status, 412, r.text);
  assert.equal((await as(sec, 'GET', '/v1/policy')).json.version, got.json.version, 'nothing stored');
  const [a, b] = await Promise.all([put(401, { 'If-Match': tag }), put(402, { 'If-Match': tag })]);
  assert.deepEqual([a.status, b.status].sort(), [200, 412], `${a.text} ${b.text}`);
  const won = a.status === 200 ? a : b;
  const now = await as(sec, 'GET', '/v1/policy');
  assert.equal(now.json.version, got.json.version + 1);
  assert.equal(now.json.categories.general.rereview_days, won.json.categories.general.rereview_days);
  assert.equal(won.headers.get('etag'), `W/"${got.json.version + 1}"`);
  // the loser edits again from the version now current, and is stored
  r = await put(403, { 'If-Match': now.headers.get('etag') });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.categories.general.rereview_days, 403);
  // what GET gave, edited and sent back whole (its version member kept)
  const cur = await as(sec, 'GET', '/v1/policy');
  const back = { ...cur.json, audit_denials: !cur.json.audit_denials };
  r = await call(srv, 'PUT', '/v1/policy', { token: sec.token, body: back, headers: { 'If-Match': cur.headers.get('etag') } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, cur.json.version + 1);
  // a version member that contradicts If-Match is refused
  r = await call(srv, 'PUT', '/v1/policy', { token: sec.token, body: { ...back, version: 1 }, headers: { 'If-Match': r.headers.get('etag') } });
  assert.equal(r.status, 412, r.text);
});
