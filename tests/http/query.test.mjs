// Query parameters are read as strictly as bodies: a parameter the route
// does not take, one given twice and one without a value are a 400 naming
// it (errors[].field), never ignored.  GET /v1/due?unit=HQ-R used to answer
// everyone's due list to a caller who believed they had asked for HQ-R's;
// ?limit=5&limit=500 used the first, ?actor= matched nobody.  The lists
// themselves are compared with docs/openapi.yaml in docs.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openapiFromYaml } from './gen-openapi.mjs';
import { startServer, call, login, account } from './lib.mjs';

let srv;
const who = {};
before(async () => {
  srv = await startServer();
  for (const n of ['sysadmin', 'secadmin', 'auditor']) who[n] = await login(srv, n);
  const post = (path, body) => call(srv, 'POST', path, { token: who.secadmin.token, body });
  assert.equal((await post('/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
  for (const id of ['E1', 'E2']) assert.equal((await post('/v1/persons', { id, name: id, unit: 'HQ' })).status, 201);
  who.person = await account(srv, { sys: who.sysadmin, sec: who.secadmin }, 'self1', 'person', { person: 'E1' });
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// The answer of the first of the accounts that may use the route (a 401
// or 403 comes before any look at the query).
async function asAnyone(method, path, opts = {}) {
  let r;
  for (const w of Object.values(who)) {
    r = await call(srv, method, path, { token: w.token, ...opts });
    if (r.status !== 401 && r.status !== 403) return r;
  }
  return r;
}

const fields = (r) => (r.json?.errors ?? []).map((x) => x.field);

test('every route refuses a query parameter it does not take, naming it', async () => {
  const doc = openapiFromYaml();
  let n = 0;
  for (const [tmpl, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
      if (!item[m]) continue;
      const path = tmpl.replace(/\{[^}]+\}/g, 'X1');
      const r = await asAnyone(m.toUpperCase(), `${path}?zz_cache=1`);
      assert.equal(r.status, 400, `${m} ${tmpl}: ${r.text}`);
      assert.deepEqual(fields(r), ['zz_cache'], `${m} ${tmpl}: ${r.text}`);
      n++;
    }
  }
  assert.ok(n > 45, `walked only ${n} operations`);
});

test('a filter of another route is refused, not ignored: GET /v1/due?unit=HQ', async () => {
  const r = await asAnyone('GET', '/v1/due?unit=HQ');
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(fields(r), ['unit']);
  assert.match(r.json.detail, /within limit cursor/, 'the message says what the route takes');
});

test('a parameter given twice, or without a value, is refused naming it', async () => {
  for (const [path, field] of [
    ['/v1/persons?limit=5&limit=500', 'limit'], ['/v1/persons?limit=5&limit=5', 'limit'],
    ['/v1/persons?unit=HQ&unit=XX', 'unit'], ['/v1/due?within=30d&within=3650d', 'within'],
    ['/v1/persons?limit=', 'limit'], ['/v1/persons?limit', 'limit'], ['/v1/persons?unit=', 'unit'],
    ['/v1/audit?actor=', 'actor'], ['/v1/audit?action=', 'action'], ['/v1/audit?subject', 'subject'],
    ['/v1/reviews?person=', 'person'], ['/v1/reports/compliance?unit=', 'unit'],
    ['/v1/sessions?all', 'all'], ['/v1/persons/E1?reveal=', 'reveal'], ['/v1/persons?=5', 'query'],
  ]) {
    const r = await asAnyone('GET', path);
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.deepEqual(fields(r), [field], `${path}: ${r.text}`);
  }
});

test('a value of the wrong type names the parameter', async () => {
  for (const [path, field] of [
    ['/v1/persons?limit=x', 'limit'], ['/v1/audit?limit=0', 'limit'], ['/v1/reviews?limit=1001', 'limit'],
    ['/v1/due?limit=-1', 'limit'], ['/v1/due?within=soon', 'within'], ['/v1/audit?since=yesterday', 'since'],
    ['/v1/persons?state=bogus', 'state'], ['/v1/persons?category=bogus', 'category'],
    ['/v1/reviews?state=Open', 'state'], ['/v1/sessions?all=yes', 'all'], ['/v1/persons/E1?reveal=1', 'reveal'],
    ['/v1/persons?cursor=abc', 'cursor'], ['/v1/audit?cursor=abc', 'cursor'], ['/v1/due?cursor=abc', 'cursor'],
  ]) {
    const r = await asAnyone('GET', path);
    assert.ok(r.status === 400 || r.status === 422, `${path}: ${r.status} ${r.text}`);
    assert.deepEqual(fields(r), [field], `${path}: ${r.text}`);
  }
});

test('every documented parameter is still taken', async () => {
  for (const path of [
    '/v1/sessions?all=true', '/v1/posts?unit=HQ', '/v1/persons/E1?reveal=false',
    '/v1/persons?unit=HQ&category=none&state=candidate&limit=1',
    '/v1/audit?since=2020-01-01&actor=secadmin&subject=E1&action=person.*&limit=5',
    '/v1/reviews?person=E1&state=all&limit=5', '/v1/due?within=30d&limit=5',
    '/v1/reports/compliance?unit=HQ',
  ]) {
    const r = await asAnyone('GET', path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }
  const first = await asAnyone('GET', '/v1/persons?unit=HQ&limit=1');
  assert.deepEqual(first.json.items.map((p) => p.id), ['E1']);
  const next = await asAnyone('GET', `/v1/persons?unit=HQ&limit=1&cursor=${first.json.next_cursor}`);
  assert.deepEqual(next.json.items.map((p) => p.id), ['E2']);
});
