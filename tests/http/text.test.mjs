// Text a user types, over HTTP: the documented maximum of every free-text
// field is the server's (a client that trusts docs/openapi.yaml must not be
// refused, nor find the limit lower than written), counted in bytes of
// UTF-8 as the document says; and Chinese, emoji and decomposed text come
// back byte for byte while controls, NUL and lone surrogates are refused
// naming the field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, spec } from './lib.mjs';

let srv, sec, rid;
const as = (method, path, body, headers) => call(srv, method, path, { token: sec.token, body, headers });

// The request schema's property `field` of method+path.
function documented(path, method, field) {
  let body = spec.paths[path][method].requestBody;
  if (body.$ref) body = spec.components.requestBodies[body.$ref.split('/').pop()];
  return body.content['application/json'].schema.properties[field];
}

before(async () => {
  srv = await startServer();
  sec = await login(srv, 'secadmin');
  let r = await as('POST', '/v1/units', { code: 'HQ', name: '总部' });
  assert.equal(r.status, 201, r.text);
  r = await as('POST', '/v1/persons', { id: 'E1', name: '张伟', unit: 'HQ' });
  assert.equal(r.status, 201, r.text);
  r = await as('POST', '/v1/reviews', { person: 'E1', level: 'secret' });
  assert.equal(r.status, 201, r.text);
  rid = r.json.id;
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Each free-text field: where the spec documents it, and a request that
// sends text v in it.
const fields = [
  ['/v1/units', 'post', 'name', (v, i) => as('POST', '/v1/units', { code: `U${i}`, name: v })],
  ['/v1/persons', 'post', 'name', (v, i) => as('POST', '/v1/persons', { id: `N${i}`, name: v, unit: 'HQ' })],
  ['/v1/persons/{id}', 'patch', 'name', (v) => as('PATCH', '/v1/persons/E1', { name: v }, { 'If-Match': '*' })],
  ['/v1/posts', 'post', 'title', (v, i) => as('POST', '/v1/posts', { code: `P${i}`, unit: 'HQ', level: 'none', title: v })],
  ['/v1/reviews/{id}/items/{item}', 'put', 'note', (v) => as('PUT', `/v1/reviews/${rid}/items/1`, { finding: 'concern', note: v })],
  ['/v1/matters', 'post', 'detail', (v) => as('POST', '/v1/matters', { person: 'E1', type: 'foreign_funding', detail: v })],
  ['/v1/persons/{id}/suspend', 'post', 'reason', (v) => as('POST', '/v1/persons/E1/suspend', { reason: v })],
  ['/v1/persons/{id}/reinstate', 'post', 'reason', (v) => as('POST', '/v1/persons/E1/reinstate', { reason: v })],
];

test('every free-text field takes its documented maxLength and refuses one more, naming the field', async () => {
  let i = 0;
  for (const [path, method, field, send] of fields) {
    const s = documented(path, method, field);
    assert.ok(Number.isInteger(s.maxLength), `${method} ${path} ${field} has a maxLength`);
    assert.match(s.description ?? '', /bytes of UTF-8/, `${method} ${path} ${field} says what maxLength counts`);
    const ok = await send('a'.repeat(s.maxLength), ++i);
    assert.ok(ok.status < 300, `${method} ${path} ${field} of ${s.maxLength} bytes: ${ok.text.slice(0, 200)}`);
    const over = await send('a'.repeat(s.maxLength + 1), ++i);
    assert.equal(over.status, 422, `${method} ${path} ${field} of ${s.maxLength + 1} bytes: ${over.text.slice(0, 200)}`);
    assert.match(over.json.errors[0].field, new RegExp(`^(\\$\\.)?${field}$`));
    // Counted in bytes: a third as many Chinese characters fit.
    const cjk = await send('中'.repeat(Math.floor(s.maxLength / 3) + 1), ++i);
    assert.equal(cjk.status, 422, `${field} in Chinese over ${s.maxLength} bytes`);
    assert.match(cjk.json.errors[0].reason, /longer than \d+ bytes/);
  }
});

test('Chinese, emoji, decomposed and right-to-left text comes back byte for byte', async () => {
  const names = ['李四', 'Zhang 伟 Wei', '王👨‍👩‍👧芳', 'Jose\u0301', 'Jos\u00e9', 'שלום', '\u{20000}\u{2A6D6}'];
  for (const [k, name] of names.entries()) {
    const r = await as('POST', '/v1/persons', { id: `T${k}`, name, unit: 'HQ' });
    assert.equal(r.status, 201, r.text);
    const g = await as('GET', `/v1/persons/T${k}`);
    assert.equal(g.json.name, name);
  }
  // Two spellings of one name are two texts: persons are told apart by id.
  const l = await as('GET', '/v1/persons?limit=100');
  assert.equal(l.json.items.filter((p) => p.name.normalize('NFC') === 'José').length, 2);
});

test('NUL, lone surrogates, controls, escapes and bidi overrides are refused naming the field', async () => {
  const bad = [
    ['{"id":"X1","name":"a\\u0000b","unit":"HQ"}', 'name'],
    ['{"id":"X2","name":"a\\ud800b","unit":"HQ"}', 'name'],
    ['{"id":"X3","name":"a\\udc00","unit":"HQ"}', 'name'],
    ['{"id":"X4","name":"a\\u001b[2Jb","unit":"HQ"}', 'name'],
    ['{"id":"X5","name":"a\\u009b2Jb","unit":"HQ"}', 'name'],
    ['{"id":"X6","name":"a\\u202egnp.exe","unit":"HQ"}', 'name'],
    ['{"id":"X7","name":"a\\nb","unit":"HQ"}', 'name'],
    ['{"id":"\\uff38\\uff18","name":"x","unit":"HQ"}', 'id'],
  ];
  for (const [raw, field] of bad) {
    const r = await call(srv, 'POST', '/v1/persons', { token: sec.token, raw, headers: { 'Content-Type': 'application/json' } });
    assert.ok(r.status === 400 || r.status === 422, `${raw}: ${r.status} ${r.text}`);
    assert.match(r.json.errors[0].field, new RegExp(`^(\\$\\.)?${field}$`), raw);
  }
  const raw = Buffer.concat([Buffer.from('{"id":"X9","name":"a'), Buffer.from([0xc0, 0xaf]), Buffer.from('","unit":"HQ"}')]);
  const r = await call(srv, 'POST', '/v1/persons', { token: sec.token, raw, headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400, r.text);
  const l = await as('GET', '/v1/persons?limit=100');
  assert.equal(l.json.items.filter((p) => p.id.startsWith('X')).length, 0);
});
