// An officer's scope seen by someone looking for its edges: every answer about
// a record outside the subtree must equal the answer about one that does not
// exist, whatever else is wrong with the request, and nothing an officer can
// read names a unit, post or person outside it.
//
// The tree:  ORG ─┬─ A ── A1        officer "off-a" is scoped to A
//                 └─ B
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, account as makeAccount, scopedOrg } from './lib.mjs';

let srv, sys, sec, off;
const as = (who, method, path, body, opts = {}) => call(srv, method, path, { token: who.token, body, ...opts });

const account = (name, roles, scope) => makeAccount(srv, { sys, sec }, name, roles, { scope });

before(async () => {
  srv = await startServer();
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  await scopedOrg(srv, sec);
  off = await account('off-a', ['officer'], 'A');
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// The same answer: status, content type and body once the two names (and
// the per-request id) are taken out.
function same(outside, missing, name, ghost) {
  assert.equal(outside.status, missing.status, `${outside.text}\n${missing.text}`);
  assert.equal(outside.headers.get('content-type'), missing.headers.get('content-type'));
  const shape = (r, n) => ({ ...JSON.parse(r.text.replaceAll(n, 'X')), request_id: undefined });
  assert.deepEqual(shape(outside, name), shape(missing, ghost));
}

test('an appointment naming a record outside the subtree answers as for a missing one, whatever else is wrong', async () => {
  // a person outside, with a bad start date: the date is judged first for a
  // missing person, so it must be for one outside too
  same(await as(off, 'POST', '/v1/appointments', { person: 'EB', post: 'PA', start: 'someday' }),
    await as(off, 'POST', '/v1/appointments', { person: 'NOPE', post: 'PA', start: 'someday' }), 'EB', 'NOPE');
  // a missing person and a post outside: "person not found", as for a missing
  // post, or the answer tells which post codes exist elsewhere
  same(await as(off, 'POST', '/v1/appointments', { person: 'NOPE', post: 'PB' }),
    await as(off, 'POST', '/v1/appointments', { person: 'NOPE', post: 'NOPO' }), 'PB', 'NOPO');
  // both inside still works
  assert.equal((await as(off, 'POST', '/v1/appointments', { person: 'EA', post: 'PA' })).status, 201);
});

test('the scope root shows no parent: the unit above it is outside the subtree', async () => {
  // GET /v1/units/ORG is a 404 for this officer; the view of A must not name it
  // either (the export already writes A as a root)
  assert.equal((await as(off, 'GET', '/v1/units/ORG')).status, 404);
  const a = await as(off, 'GET', '/v1/units/A');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.parent, null, a.text);
  const list = await as(off, 'GET', '/v1/units');
  assert.deepEqual(list.json.items.map((u) => [u.code, u.parent]), [['A', null], ['A1', 'A']]);
  assert.ok(!list.text.includes('ORG'), list.text);
  // the secadmin still sees the tree as it is
  assert.equal((await as(sec, 'GET', '/v1/units/A')).json.parent, 'ORG');
});

test('an appointment on a post outside the subtree cannot be ended by the officer', async () => {
  // the officer may not appoint EA to PB (post "not found"), so ending that
  // appointment is refused the same way: as an appointment that does not exist
  const ap = await as(sec, 'POST', '/v1/appointments', { person: 'EA', post: 'PB' });
  assert.equal(ap.status, 201, ap.text);
  same(await as(off, 'POST', `/v1/persons/EA/appointments/${ap.json.id}/end`),
    await as(off, 'POST', '/v1/persons/EA/appointments/999999/end'), String(ap.json.id), '999999');
  const ea = await as(sec, 'GET', '/v1/persons/EA');
  assert.ok(ea.json.appointments.some((x) => x.post === 'PB' && x.open), 'still held');
  // the secadmin ends it
  assert.equal((await as(sec, 'POST', `/v1/persons/EA/appointments/${ap.json.id}/end`)).status, 204);
});

test('a granter scoped to a subtree grants no scope beyond it', async () => {
  // a secadmin who is also an officer scoped to A works inside A only
  // (scope.test.mjs); its grants stay inside A too
  const so = await account('sec-a', ['secadmin', 'officer'], 'A');
  for (const name of ['x1', 'x2'])
    assert.equal((await as(sys, 'POST', '/v1/accounts', { name, password: `${name}-password-1` })).status, 201);
  // a unit outside is named like one that does not exist
  same(await as(so, 'PUT', '/v1/accounts/x1/roles/officer', { scope: 'B' }),
    await as(so, 'PUT', '/v1/accounts/x1/roles/officer', { scope: 'NOPE' }), 'B', 'NOPE');
  same(await as(so, 'PUT', '/v1/accounts/x1/roles/officer', { scope: 'ORG' }),
    await as(so, 'PUT', '/v1/accounts/x1/roles/officer', { scope: 'NOPE' }), 'ORG', 'NOPE');
  // no scope at all would be the whole organisation
  let r = await as(so, 'PUT', '/v1/accounts/x1/roles/officer');
  assert.equal(r.status, 403, r.text);
  r = await as(so, 'PUT', '/v1/accounts/x2/roles/secadmin');
  assert.equal(r.status, 403, r.text);
  let acct = (await as(sys, 'GET', '/v1/accounts')).json.items ?? (await as(sys, 'GET', '/v1/accounts')).json;
  for (const n of ['x1', 'x2'])
    assert.deepEqual(acct.find((a) => a.name === n).roles, [], `${n} got nothing`);
  // inside the subtree it works, and the account stays scoped when the
  // officer role goes while another remains
  assert.equal((await as(so, 'PUT', '/v1/accounts/x1/roles/officer', { scope: 'A1' })).status, 204);
  assert.equal((await as(so, 'PUT', '/v1/accounts/x1/roles/reviewer')).status, 204);
  r = await as(so, 'DELETE', '/v1/accounts/x1/roles/officer');
  assert.equal(r.status, 403, r.text);
  // nor does it touch an account that reaches beyond A: the organisation's
  // secadmin, an officer of B
  r = await as(so, 'DELETE', '/v1/accounts/secadmin/roles/secadmin');
  assert.equal(r.status, 403, r.text);
  await account('off-b', ['officer'], 'B');
  r = await as(so, 'DELETE', '/v1/accounts/off-b/roles/officer');
  assert.equal(r.status, 403, r.text);
  r = await as(so, 'PUT', '/v1/accounts/off-b/roles/officer', { scope: 'A1' });
  assert.equal(r.status, 403, r.text);
  // the unscoped secadmin is not limited
  assert.equal((await as(sec, 'DELETE', '/v1/accounts/x1/roles/officer')).status, 204);
  acct = (await as(sys, 'GET', '/v1/accounts')).json.items ?? (await as(sys, 'GET', '/v1/accounts')).json;
  assert.deepEqual(acct.find((a) => a.name === 'x1').roles, ['reviewer']);
});

test('a person view shows the officer no appointment on a post outside the subtree', async () => {
  // GET /v1/posts/PB is a 404 for this officer; EA's record must not name PB
  // either (the export leaves that appointment out, and ending it is refused)
  const ap = await as(sec, 'POST', '/v1/appointments', { person: 'EA', post: 'PB' });
  assert.equal(ap.status, 201, ap.text);
  const mine = await as(off, 'GET', '/v1/persons/EA');
  assert.equal(mine.status, 200, mine.text);
  assert.ok(!mine.text.includes('PB'), mine.text);
  assert.ok(mine.json.appointments.every((x) => x.id !== ap.json.id));
  assert.ok(mine.json.appointments.some((x) => x.post === 'PA'), 'the post inside is shown');
  // the secadmin sees both
  const all = await as(sec, 'GET', '/v1/persons/EA');
  assert.ok(all.json.appointments.some((x) => x.post === 'PB' && x.open), all.text);
  assert.equal((await as(sec, 'POST', `/v1/persons/EA/appointments/${ap.json.id}/end`)).status, 204);
});

test('a scoped officer asks no access decisions: they would tell who exists outside the subtree', async () => {
  const one = { person: 'EB', action: 'read', object: { level: 'confidential' } };
  for (const [path, body] of [['/v1/decisions', one], ['/v1/decisions/batch', { requests: [one] }]]) {
    const r = await as(off, 'POST', path, body);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.errors[0].field, 'scope');
    assert.doesNotMatch(r.text, /EB|allow/);
  }
  // the secadmin, who sees the whole organisation, still may
  const r = await as(sec, 'POST', '/v1/decisions', one);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.allow, false);
});
