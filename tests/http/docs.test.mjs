// The documents against the code: every route the server registers is in
// docs/openapi.yaml, and the permission matrix of docs/ROLES.md is the one
// the server answers with (GET /v1/permissions, from core/role.c).  A route
// or a permission added without its documentation fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openapiFromYaml } from './gen-openapi.mjs';
import { startServer, call, login } from './lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p) => readFileSync(root + p, 'utf8');
// A test hook, registered only with BAOMI_TEST_CLOCK=1 (see baomi.1).
const HIDDEN = ['POST /v1/test/clock'];

// {"GET", "/v1/units", h_units, ...} entries of the route tables.
function codeRoutes() {
  const src = read('src/http/handlers.c') + read('src/http/server.c');
  return [...src.matchAll(/\{?\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)"/g)]
    .map(([, m, p]) => `${m} ${p}`);
}

test('every route of the server is in docs/openapi.yaml', () => {
  const doc = openapiFromYaml();
  const routes = codeRoutes();
  assert.ok(routes.length > 40, `found only ${routes.length} routes in the sources`);
  const missing = routes.filter((r) => {
    const [m, p] = r.split(' ');
    return !HIDDEN.includes(r) && !doc.paths[p]?.[m.toLowerCase()];
  });
  assert.deepEqual(missing, []);
});

// {"METHOD /path": "the query list"} of the route tables: the last member
// of each entry, a string of names or NULL (server.c refuses any other).
function codeQueries() {
  const src = read('src/http/handlers.c') + read('src/http/server.c');
  const re = /\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)",[^{}"]*?(?:"([^"]*)"|NULL)\s*\}/g;
  return Object.fromEntries([...src.matchAll(re)]
    .map(([, m, p, q]) => [`${m} ${p}`, (q ?? '').split(' ').filter(Boolean).sort()]));
}

// The same from docs/openapi.yaml: the `in: query` parameters of each
// operation and of its path item, $refs followed.
function docQueries(doc) {
  const deref = (x) => (x.$ref ? x.$ref.slice(2).split('/').reduce((o, k) => o[k], doc) : x);
  const out = {};
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
      if (!item[m]) continue;
      out[`${m.toUpperCase()} ${p}`] = [...(item.parameters ?? []), ...(item[m].parameters ?? [])]
        .map(deref).filter((x) => x.in === 'query').map((x) => x.name).sort();
    }
  }
  return out;
}

test('each route takes the query parameters docs/openapi.yaml documents, both ways', () => {
  const code = codeQueries();
  const doc = docQueries(openapiFromYaml());
  assert.equal(Object.keys(code).length, codeRoutes().length, 'a route entry the test could not read');
  for (const r of HIDDEN) delete code[r];
  assert.deepEqual(code, doc);
  assert.deepEqual(code['GET /v1/due'], ['cursor', 'limit', 'within']);
});

// The matrix table of ROLES.md as {permission: [roles]}.
function rolesMatrix() {
  const lines = read('docs/ROLES.md').split('\n');
  const head = lines.findIndex((l) => /^\| permission \|/.test(l));
  assert.ok(head >= 0, 'ROLES.md has no permission table');
  const roles = lines[head].split('|').slice(2, -1).map((s) => s.trim());
  const out = {};
  for (const l of lines.slice(head + 2)) {
    if (!l.startsWith('|')) break;
    const cells = l.split('|').slice(1, -1).map((s) => s.trim());
    const holders = roles.filter((_, i) => cells[i + 1] === '✓');
    for (const p of cells[0].split(',')) out[p.trim()] = holders;
  }
  return out;
}

test('docs/ROLES.md holds the matrix of core/role.c', async () => {
  const srv = await startServer();
  try {
    const { token } = await login(srv, 'auditor');
    const r = await call(srv, 'GET', '/v1/permissions', { token });
    assert.equal(r.status, 200);
    assert.deepEqual(rolesMatrix(), r.json);
  } finally {
    assert.deepEqual(await srv.stop(), { code: 0, sig: null });
  }
});
