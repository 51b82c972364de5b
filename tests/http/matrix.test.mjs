// The role matrix from outside: every route x every role is allowed or
// denied exactly as core/role.c says.  The route -> permission table below
// is this test's own expectation; the role -> permission matrix is read
// from GET /v1/permissions and cross-checked against a few fixed facts of
// three-officer separation, so neither side can drift unnoticed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, spec } from './lib.mjs';

const ROLES = ['sysadmin', 'secadmin', 'auditor', 'officer', 'reviewer', 'trainer', 'person'];
const ROUTES = [
  ['GET', '/v1/session', 'session.own'],
  ['GET', '/v1/sessions', 'session.own'],
  ['DELETE', '/v1/sessions/999999', 'session.own'],
  ['POST', '/v1/password', 'session.own', { old_password: 'not-my-password', new_password: 'new-password-1' }],
  ['GET', '/v1/permissions', 'session.own'],
  ['GET', '/v1/units', 'unit.read'],
  ['POST', '/v1/units', 'unit.write', { code: 'M-U', name: 'u', parent: 'NOPE' }],
  ['GET', '/v1/units/HQ', 'unit.read'],
  ['GET', '/v1/posts', 'post.read'],
  ['POST', '/v1/posts', 'post.write', { code: 'M-P', unit: 'NOPE', level: 'secret' }],
  ['GET', '/v1/posts/NOPE', 'post.read'],
  ['GET', '/v1/persons', 'person.read'],
  ['POST', '/v1/persons', 'person.write', { id: 'M-E', name: 'n', unit: 'NOPE' }],
  ['GET', '/v1/persons/NOPE', 'person.read'],
  ['PATCH', '/v1/persons/NOPE', 'person.write', { name: 'x' }, { 'If-Match': 'W/"1"' }],
  ['POST', '/v1/appointments', 'appointment.write', { person: 'NOPE', post: 'NOPE' }],
  ['POST', '/v1/persons/NOPE/appointments/1/end', 'appointment.write', { date: '2020-01-01' }],
  ['POST', '/v1/imports/units', 'import', undefined, { 'Content-Type': 'text/csv' }, 'code,name,parent\nbad code,x,\n'],
  ['GET', '/v1/exports/units', 'export'],
  ['GET', '/v1/policy', 'policy.read'],
  ['PUT', '/v1/policy', 'policy.write', { nonsense: true }],
  ['GET', '/v1/policy/versions', 'policy.read'],
  ['GET', '/v1/audit?limit=1', 'audit.read'],
  ['POST', '/v1/audit/verify', 'audit.verify'],
  ['GET', '/v1/accounts', 'account.admin'],
  ['POST', '/v1/accounts', 'account.admin', { name: 'bad name' }],
  ['POST', '/v1/accounts/ghost/disable', 'account.admin'],
  ['POST', '/v1/accounts/ghost/password', 'account.admin', { password: 'ghost-password-1' }],
  ['PUT', '/v1/accounts/ghost/roles/officer', 'role.grant'],
  ['DELETE', '/v1/accounts/ghost/roles/officer', 'role.grant'],
  ['GET', '/v1/reviews', 'review.read'],
  ['GET', '/v1/reviews?person=NOPE', 'review.read'],
  ['POST', '/v1/reviews', 'review.open', { person: 'NOPE', level: 'secret' }],
  ['GET', '/v1/reviews/999999', 'review.read'],
  ['PUT', '/v1/reviews/999999/items/1', 'review.read', { finding: 'clear' }],
  ['POST', '/v1/reviews/999999/decision', 'review.decide', { approve: true, reason: 'x' }],
  ['POST', '/v1/matters', 'matter.file_any', { person: 'NOPE', type: 'leak' }],
  ['GET', '/v1/persons/NOPE/matters', 'matter.read'],
  ['POST', '/v1/persons/NOPE/suspend', 'person.suspend', { reason: 'x' }],
  ['POST', '/v1/persons/NOPE/reinstate', 'person.suspend', { reason: 'x' }],
  ['POST', '/v1/persons/NOPE/activate', 'person.write'],
  ['GET', '/v1/persons/NOPE/clearance', 'clearance.read'],
  ['POST', '/v1/decisions', 'decide', { person: 'NOPE', action: 'read', object: { level: 'secret' } }],
  ['POST', '/v1/decisions/batch', 'decide', { requests: [] }],
  ['GET', '/v1/due?within=30d', 'due.read'],
  ['GET', '/v1/reports/compliance', 'report.read'],
  ['GET', '/metrics', 'metrics.read'],
  ['GET', '/v1/me', 'person.self_read'],
  ['GET', '/v1/me/clearance', 'clearance.self_read'],
  ['GET', '/v1/me/matters', 'person.self_read'],
  ['POST', '/v1/me/matters', 'matter.file_own', { type: 'leak' }],
];

let srv, matrix;
const tokens = {};
before(async () => {
  srv = await startServer({ demo: true });
  const sys = await login(srv, 'sysadmin');
  const sec = await login(srv, 'secadmin');
  for (const role of ['officer', 'reviewer', 'trainer', 'person']) {
    const r = await call(srv, 'POST', '/v1/accounts', { token: sys.token, body: { name: `u-${role}`, password: `${role}-password-1` } });
    assert.equal(r.status, 201, r.text);
    const g = await call(srv, 'PUT', `/v1/accounts/u-${role}/roles/${role}`, { token: sec.token });
    assert.equal(g.status, 204, g.text);
  }
  for (const role of ROLES)
    tokens[role] = (await login(srv, ROLES.indexOf(role) < 3 ? role : `u-${role}`,
      ROLES.indexOf(role) < 3 ? undefined : `${role}-password-1`)).token;
  matrix = (await call(srv, 'GET', '/v1/permissions', { token: tokens.person })).json;
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('the matrix keeps the three officers apart', () => {
  assert.deepEqual(matrix['audit.read'], ['auditor']);
  assert.deepEqual(matrix['account.admin'], ['sysadmin']);
  assert.deepEqual(matrix['role.grant'], ['secadmin']);
  assert.ok(!matrix['person.read'].includes('sysadmin'));
  for (const [perm, roles] of Object.entries(matrix))
    if (roles.includes('auditor')) assert.ok(!/write|admin|grant/.test(perm), perm);
});

// Every authenticated operation of the OpenAPI document is walked above, so
// a new route cannot join the API without joining this matrix.  Logout
// (session.own, every role) would end the session the walk needs; its
// behaviour is in auth.test.mjs.
const UNWALKED = ['POST /v1/logout'];
test('every operation of the spec is in the matrix', () => {
  const missing = [];
  for (const [tmpl, item] of Object.entries(spec.paths)) {
    const re = new RegExp('^' + tmpl.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op || (op.security && op.security.length === 0)) continue;
      if (!ROUTES.some(([m, p]) => m === method.toUpperCase() && re.test(p.split('?')[0])))
        missing.push(`${method.toUpperCase()} ${tmpl}`);
    }
  }
  assert.deepEqual(missing, UNWALKED);
});

for (const [method, path, perm, body, headers, raw] of ROUTES) {
  test(`${method} ${path} follows ${perm}`, async () => {
    for (const role of ROLES) {
      const r = await call(srv, method, path, { token: tokens[role], body, headers: { ...headers }, raw });
      const denied = r.status === 403 && /requires the permission/.test(r.json?.detail ?? '');
      const want = matrix[perm].includes(role);
      assert.equal(!denied, want, `${role} on ${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.notEqual(r.status, 401, `${role} lost its session`);
      assert.ok(r.status < 500, `${role}: ${r.status} ${r.text}`);
    }
  });
}
