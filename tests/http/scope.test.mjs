// An officer scoped to a unit subtree, seen from outside: every list, read,
// import, export, due list and report holds the subtree only, and a record
// outside it answers exactly like one that does not exist.
//
// The tree:  ORG ─┬─ A ── A1        officer "off-a" is scoped to A
//                 └─ B
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, account as makeAccount, scopedOrg } from './lib.mjs';

let srv, sys, sec, off;
const as = (who, method, path, body, opts = {}) => call(srv, method, path, { token: who.token, body, ...opts });
const csv = (who, kind, text) =>
  call(srv, 'POST', `/v1/imports/${kind}`, { token: who.token, raw: text, headers: { 'Content-Type': 'text/csv' } });
const csvOut = async (who, kind) => (await as(who, 'GET', `/v1/exports/${kind}`)).text;

const account = (name, roles, scope) => makeAccount(srv, { sys, sec }, name, roles, { scope });

before(async () => {
  srv = await startServer();
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  await scopedOrg(srv, sec);
  off = await account('off-a', 'officer', 'A');
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Two 404s are "the same answer" when status and body agree once the
// missing name itself (and the per-request id) is taken out.
function sameNotFound(outside, missing, name, ghost) {
  assert.equal(outside.status, 404, outside.text);
  assert.equal(missing.status, 404, missing.text);
  assert.equal(outside.headers.get('content-type'), missing.headers.get('content-type'));
  const shape = (r, n) => ({ ...JSON.parse(r.text.replaceAll(n, 'X')), request_id: undefined });
  assert.deepEqual(shape(outside, name), shape(missing, ghost));
}

test('unit and post lists hold the subtree only', async () => {
  const units = await as(off, 'GET', '/v1/units');
  assert.equal(units.status, 200);
  assert.deepEqual(units.json.items.map((u) => u.code), ['A', 'A1']);
  const posts = await as(off, 'GET', '/v1/posts');
  assert.deepEqual(posts.json.items.map((p) => p.code), ['PA']);
  assert.deepEqual((await as(off, 'GET', '/v1/posts?unit=A1')).json.items.map((p) => p.code), ['PA']);
  // the secadmin is unscoped and sees everything
  assert.deepEqual((await as(sec, 'GET', '/v1/units')).json.items.map((u) => u.code), ['ORG', 'A', 'A1', 'B']);
  assert.deepEqual((await as(sec, 'GET', '/v1/posts')).json.items.map((p) => p.code), ['PA', 'PB']);
});

test('a unit, post or person outside the subtree is a 404 like a missing one', async () => {
  assert.equal((await as(off, 'GET', '/v1/units/A1')).status, 200);
  assert.equal((await as(off, 'GET', '/v1/posts/PA')).status, 200);
  assert.equal((await as(off, 'GET', '/v1/persons/EA')).status, 200);
  sameNotFound(await as(off, 'GET', '/v1/units/B'), await as(off, 'GET', '/v1/units/NOPE'), 'B', 'NOPE');
  sameNotFound(await as(off, 'GET', '/v1/units/ORG'), await as(off, 'GET', '/v1/units/NOPE'), 'ORG', 'NOPE');
  sameNotFound(await as(off, 'GET', '/v1/posts/PB'), await as(off, 'GET', '/v1/posts/NOPE'), 'PB', 'NOPE');
  sameNotFound(await as(off, 'GET', '/v1/posts?unit=B'), await as(off, 'GET', '/v1/posts?unit=NOPE'), 'B', 'NOPE');
  sameNotFound(await as(off, 'GET', '/v1/persons/EB'), await as(off, 'GET', '/v1/persons/NOPE'), 'EB', 'NOPE');
  sameNotFound(await as(off, 'GET', '/v1/persons?unit=B'), await as(off, 'GET', '/v1/persons?unit=NOPE'), 'B', 'NOPE');
  // a huge or malformed code is simply not found, never a 500
  assert.equal((await as(off, 'GET', `/v1/units/${'U'.repeat(200)}`)).status, 404);
  assert.equal((await as(off, 'GET', `/v1/units/${'U'.repeat(5000)}`)).status, 400);
  assert.equal((await as(off, 'GET', '/v1/posts/%E2%80%AE')).status, 404);
});

test('vetting refuses persons and reviews outside the subtree as missing', async () => {
  const ghost = await as(off, 'POST', '/v1/reviews', { person: 'NOPE', level: 'secret' });
  const out = await as(off, 'POST', '/v1/reviews', { person: 'EB', level: 'secret' });
  sameNotFound(out, ghost, 'EB', 'NOPE');
  sameNotFound(await as(off, 'POST', '/v1/matters', { person: 'EB', type: 'leak' }),
    await as(off, 'POST', '/v1/matters', { person: 'NOPE', type: 'leak' }), 'EB', 'NOPE');
  sameNotFound(await as(off, 'POST', '/v1/persons/EB/activate'),
    await as(off, 'POST', '/v1/persons/NOPE/activate'), 'EB', 'NOPE');
  // a review of EB opened by the secadmin stays invisible to the officer
  const rb = await as(sec, 'POST', '/v1/reviews', { person: 'EB', level: 'secret' });
  assert.equal(rb.status, 201, rb.text);
  sameNotFound(await as(off, 'GET', `/v1/reviews/${rb.json.id}`), await as(off, 'GET', '/v1/reviews/999999'),
    String(rb.json.id), '999999');
  const f = await as(off, 'PUT', `/v1/reviews/${rb.json.id}/items/1`, { finding: 'clear' });
  assert.equal(f.status, 404, f.text);
  const due = await as(off, 'GET', '/v1/due?within=3650d');
  assert.equal(due.status, 200, due.text);
  assert.ok(due.json.open_reviews.every((r) => r.person !== 'EB'), JSON.stringify(due.json.open_reviews));
  assert.ok(due.json.items.every((i) => i.person !== 'EB'));
  const all = await as(sec, 'GET', '/v1/due?within=3650d');
  assert.ok(all.json.open_reviews.some((r) => r.person === 'EB'));
});

test('appointments outside the subtree are refused like missing ones', async () => {
  const ghost = await as(off, 'POST', '/v1/appointments', { person: 'EA', post: 'NOPE' });
  const out = await as(off, 'POST', '/v1/appointments', { person: 'EA', post: 'PB' });
  assert.equal(out.status, ghost.status, out.text);
  assert.equal(out.json.detail.replace('PB', 'X'), ghost.json.detail.replace('NOPE', 'X'));
  const pout = await as(off, 'POST', '/v1/appointments', { person: 'EB', post: 'PA' });
  const pghost = await as(off, 'POST', '/v1/appointments', { person: 'NOPE', post: 'PA' });
  assert.equal(pout.status, pghost.status);
  assert.equal(pout.json.detail.replace('EB', 'X'), pghost.json.detail.replace('NOPE', 'X'));
});

test('imports refuse every row outside the subtree, all or nothing, naming line and field', async () => {
  // units: a parent outside the scope, and a root, are refused
  let r = await csv(off, 'units', 'code,name,parent\nA2,ok,A\nB2,no,B\nTOP,no,\nA3,ok,A2\n');
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.errors.map((x) => [x.line, x.field]), [[3, 'parent'], [4, 'parent']]);
  assert.match(r.json.errors[0].reason, /unit B not found/);
  const ghost = await csv(off, 'units', 'code,name,parent\nG1,no,GHOST\n');
  assert.equal(ghost.json.errors[0].reason.replace('GHOST', 'X'), r.json.errors[0].reason.replace('B', 'X'));
  assert.equal((await as(sec, 'GET', '/v1/units/A2')).status, 404, 'nothing was imported');
  // the same file within the scope goes in, a child after its parent
  r = await csv(off, 'units', 'code,name,parent\nA3,ok,A2\nA2,ok,A\n');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.added, 2);
  // posts
  r = await csv(off, 'posts', 'code,unit,level\nPA2,A2,none\nPB2,B,none\nPX,NOPE,none\n');
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.errors.map((x) => [x.line, x.field]), [[3, 'unit'], [4, 'unit']]);
  assert.equal(r.json.errors[0].reason.replace('B', 'X'), r.json.errors[1].reason.replace('NOPE', 'X'));
  // persons
  r = await csv(off, 'persons', 'id,name,unit\nEA2,ok,A2\nEB2,no,B\nEX,no,NOPE\n');
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.errors.map((x) => [x.line, x.field]), [[3, 'unit'], [4, 'unit']]);
  assert.equal(r.json.errors[0].reason.replace('B', 'X'), r.json.errors[1].reason.replace('NOPE', 'X'));
  assert.equal((await as(sec, 'GET', '/v1/persons/EA2')).status, 404, 'nothing was imported');
  // appointments: a person or a post outside
  r = await csv(off, 'appointments', 'person,post\nEA,PA\nEB,PA\nEA,PB\nNOPE,PA\n');
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.errors.map((x) => [x.line, x.field]), [[3, 'person'], [4, 'post'], [5, 'person']]);
  assert.equal(r.json.errors[0].reason.replace('EB', 'X'), r.json.errors[2].reason.replace('NOPE', 'X'));
  assert.equal((await as(sec, 'GET', '/v1/persons/EA')).json.appointments.length, 0, 'nothing was imported');
});

test('exports hold the subtree only and import back', async () => {
  const units = await csvOut(off, 'units');
  assert.doesNotMatch(units, /^(ORG|B),/m);
  assert.match(units, /^A,Unit A,\r?$/m, 'the scope root is exported as a root');
  assert.match(units, /^A1,Unit A1,A\r?$/m);
  assert.doesNotMatch(await csvOut(off, 'posts'), /PB/);
  const persons = await csvOut(off, 'persons');
  assert.match(persons, /^EA,/m);
  assert.doesNotMatch(persons, /EB/);
  assert.match(await csvOut(sec, 'persons'), /^EB,/m);
  // appointments of a person in scope on a post outside it stay inside
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: 'EA', post: 'PB' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: 'EA', post: 'PA' })).status, 201);
  const appts = await csvOut(off, 'appointments');
  assert.match(appts, /^EA,PA,/m);
  assert.doesNotMatch(appts, /PB/);
  // the officer's own export imports back unchanged
  const back = await csv(off, 'units', units);
  assert.equal(back.status, 422, 'A is a root in the export: an officer may not add roots');
  const posts = await csv(off, 'posts', await csvOut(off, 'posts'));
  assert.equal(posts.status, 200, posts.text);
  assert.equal(posts.json.added, 0);
});

test('the compliance report of a scoped reader holds its subtree', async () => {
  // report.read is the secadmin's and auditor's; a secadmin who is also a
  // scoped officer reads only the subtree
  const r = await as(sys, 'POST', '/v1/accounts', { name: 'sec-off', password: 'sec-off-password-1' });
  assert.equal(r.status, 201, r.text);
  // nobody holds secadmin and officer from init; grant both to a fresh account
  for (const [role, body] of [['secadmin'], ['officer', { scope: 'A' }]])
    assert.equal((await as(sec, 'PUT', `/v1/accounts/sec-off/roles/${role}`, body)).status, 204);
  const so = await login(srv, 'sec-off', 'sec-off-password-1');
  const rep = await as(so, 'GET', '/v1/reports/compliance');
  assert.equal(rep.status, 200, rep.text);
  const units = rep.json.units.map((u) => u.unit);
  assert.ok(units.includes('A1'), JSON.stringify(units));
  assert.ok(!units.includes('B'), JSON.stringify(units));
  assert.ok((await as(sec, 'GET', '/v1/reports/compliance')).json.units.some((u) => u.unit === 'B'));
  sameNotFound(await as(so, 'GET', '/v1/reports/compliance?unit=B'),
    await as(so, 'GET', '/v1/reports/compliance?unit=NOPE'), 'B', 'NOPE');
});
