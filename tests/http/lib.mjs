// Helpers for the black-box tests: start the real baomi binary on a free
// loopback port, log in, call the API, and check every response body
// against docs/openapi.json.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const BAOMI = process.env.BAOMI ?? fileURLToPath(new URL('../../build/baomi', import.meta.url));
export const SPEC_PATH = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));
export const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8'));
export const PASSWORDS = {
  sysadmin: 'sysadmin-password-1',
  secadmin: 'secadmin-password-1',
  auditor: 'auditor-password-1',
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi');

// The response schema the spec gives for method+path and status, or null.
function responseSchemaRef(method, path, status, ctype) {
  for (const [tmpl, item] of Object.entries(spec.paths)) {
    const re = new RegExp('^' + tmpl.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (!re.test(path)) continue;
    const op = item[method.toLowerCase()];
    if (!op) return { missing: `no ${method} for ${tmpl}` };
    let key = String(status) in op.responses ? String(status) : 'default';
    let resp = op.responses[key];
    if (!resp) return { missing: `status ${status} of ${method} ${tmpl} not described` };
    let ptr = `#/paths/${tmpl.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${key}`;
    if (resp.$ref) { ptr = resp.$ref; resp = spec.components.responses[resp.$ref.split('/').pop()]; }
    if (!resp.content) return { none: true };
    const media = Object.keys(resp.content).find((m) => ctype.startsWith(m));
    if (!media) return { missing: `content type ${ctype} of ${method} ${tmpl} ${status} not described` };
    return { ref: `openapi${ptr}/content/${media.replaceAll('/', '~1')}/schema` };
  }
  return { unknown: true };
}

// The schema a JSON pointer into the spec names, with $ref followed.
function deref(s) {
  while (s && s.$ref) s = s.$ref.slice(2).split('/')
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~')).reduce((o, k) => o[k], spec);
  return s;
}

// Paths of members of body that no schema names: a field the server sends
// must be documented.  allOf merges members; of oneOf/anyOf branches the one
// matching the value's type counts; `type: object` without properties (or
// with additionalProperties) leaves its members free.
function undocumented(schema, v, at, out) {
  const s = deref(schema);
  if (!s || v === null || typeof v !== 'object') return out;
  const parts = [s, ...(s.allOf ?? []).map(deref)];
  const alt = [...(s.oneOf ?? []), ...(s.anyOf ?? [])].map(deref)
    .find((b) => (b.type === 'null') === (v === null) && !(Array.isArray(v) && b.type === 'object'));
  if (alt) return undocumented(alt, v, at, out);
  if (Array.isArray(v)) {
    const items = parts.map((p) => p.items).find(Boolean);
    if (items) v.forEach((x, i) => undocumented(items, x, `${at}[${i}]`, out));
    return out;
  }
  const props = Object.assign({}, ...parts.map((p) => p.properties ?? {}));
  const free = parts.some((p) => p.additionalProperties !== undefined && p.additionalProperties !== false) ||
    Object.keys(props).length === 0;
  for (const [k, x] of Object.entries(v)) {
    if (k in props) undocumented(props[k], x, `${at}.${k}`, out);
    else if (!free) out.push(`${at}.${k}`);
  }
  return out;
}

// Asserts that a response matches the spec (when the path is in it).
export function checkSpec(method, path, status, ctype, body) {
  const r = responseSchemaRef(method, path.split('?')[0], status, ctype ?? '');
  if (r.unknown || r.none) return;
  assert.ok(!r.missing, r.missing);
  if (!ctype.includes('json')) return;
  const validate = ajv.getSchema(r.ref);
  assert.ok(validate, `schema ${r.ref} not found`);
  assert.ok(validate(body), `${method} ${path.slice(0, 80)} ${status} does not match the spec: ` +
    JSON.stringify(validate.errors?.slice(0, 3)) + ' body ' + JSON.stringify(body).slice(0, 300));
  const extra = undocumented({ $ref: r.ref.slice('openapi'.length) }, body, '$', []);
  assert.deepEqual(extra, [], `${method} ${path.slice(0, 80)} ${status} sends fields the spec does not name`);
}

// Starts baomi serve on a fresh database; returns {url, proc, db, stop, ...}.
// args: more options for `baomi serve`.
// Starts `baomi serve` on a free loopback port with env; resolves once it
// says where it listens.  err() is its stderr so far.
export async function spawnServer(args, env) {
  const proc = spawn(BAOMI, ['serve', '--listen', '127.0.0.1:0', ...args], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return { proc, url, err: () => stderr };
}

export async function startServer({ env = {}, demo = false, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'baomi-http-'));
  const db = join(dir, 't.db');
  writeFileSync(join(dir, 'pw'), Object.entries(PASSWORDS).map(([k, v]) => `${k}:${v}`).join('\n'));
  const cenv = { ...process.env, BAOMI_DB: db, ...env };
  let spawned;
  try {
    execFileSync(BAOMI, ['init', '--passwords', join(dir, 'pw')], { env: cenv, stdio: 'ignore' });
    if (demo) execFileSync(BAOMI, ['demo', '--persons', '60'], { env: cenv, stdio: 'ignore' });
    spawned = await spawnServer(args, cenv);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true }); // a server that never started leaves nothing
    throw err;
  }
  const { proc, url, err } = spawned;
  const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
  const cli = (...args) => execFileSync(BAOMI, args, { env: cenv, encoding: 'utf8' });
  const stop = async (sig = 'SIGTERM') => {
    proc.kill(sig);
    const r = await exited;
    // A sanitizer's report (TSan without log_path, ASan, UBSan) is on the
    // server's stderr, which the tests otherwise never show: a test that
    // then fails on exit code 66 should say why.
    if (/Sanitizer|runtime error:/.test(err())) process.stderr.write(`baomi serve stderr:\n${err()}\n`);
    rmSync(dir, { recursive: true, force: true });
    return r;
  };
  return { url, proc, db, dir, exited, stop, cli, stderr: err };
}

// One API call; checks the body against the spec and returns it parsed.
export async function call(srv, method, path, { token, body, headers = {}, raw, cookie } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (cookie) h.Cookie = cookie;
  let payload = raw;
  if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] ??= 'application/json'; }
  const res = await fetch(srv.url + path, { method, headers: h, body: payload });
  const ctype = res.headers.get('content-type') ?? '';
  const text = await res.text();
  let json = null;
  if (ctype.includes('json') && text) json = JSON.parse(text);
  checkSpec(method, path, res.status, ctype, json);
  return { status: res.status, headers: res.headers, json, text };
}

// Passwords an administrator set are temporary: the first login changes
// them to `${password}-own` (as their holder would) and logs in again.
// Later logins of the account with the administrator's password use the
// holder's, so tests keep naming the password they gave.
const owned = new Map();

// The password an account holds now, for a test that gave `password`.
export const passwordOf = (srv, name, password) => owned.get(`${srv.url} ${name} ${password}`) ?? password;

export async function login(srv, name, password = PASSWORDS[name]) {
  const key = `${srv.url} ${name} ${password}`;
  const pw = owned.get(key) ?? password;
  let r = await call(srv, 'POST', '/v1/login', { body: { name, password: pw } });
  assert.equal(r.status, 200, `login ${name}: ${r.text}`);
  if (r.json.password_change_required) {
    const c = await call(srv, 'POST', '/v1/password', { token: r.json.token,
      body: { old_password: pw, new_password: `${pw}-own` } });
    // an account with no role may not even change it: it can do nothing
    if (c.status === 403) return { token: r.json.token, csrf: r.json.csrf_token, cookie: r.headers.get('set-cookie') };
    assert.equal(c.status, 204, `first password change of ${name}: ${c.text}`);
    owned.set(key, `${pw}-own`);
    r = await call(srv, 'POST', '/v1/login', { body: { name, password: `${pw}-own` } });
    assert.equal(r.status, 200, `login ${name} after the change: ${r.text}`);
    assert.equal(r.json.password_change_required, false);
  }
  return { token: r.json.token, csrf: r.json.csrf_token, cookie: r.headers.get('set-cookie') };
}

// Makes an account as sysadmin (sys: a login) with password `${name}-password-1`,
// linked to person when given, grants it roles (a name or a list) as secadmin
// (sec), with scope when given, and logs it in.
export async function account(srv, { sys, sec }, name, roles, { scope, person } = {}) {
  const pw = `${name}-password-1`;
  let r = await call(srv, 'POST', '/v1/accounts', { token: sys.token, body: { name, password: pw, person } });
  assert.equal(r.status, 201, r.text);
  for (const role of [roles].flat()) {
    r = await call(srv, 'PUT', `/v1/accounts/${name}/roles/${role}`,
      { token: sec.token, body: scope ? { scope } : undefined });
    assert.equal(r.status, 204, r.text);
  }
  return login(srv, name, pw);
}

// The units, posts and persons of the officer-scope tests: ORG > A > A1,
// ORG > B; posts PA (A1) and PB (B); persons EA (A1) and EB (B).
export async function scopedOrg(srv, sec) {
  const post = (path, body) => call(srv, 'POST', path, { token: sec.token, body });
  for (const [code, parent] of [['ORG'], ['A', 'ORG'], ['A1', 'A'], ['B', 'ORG']]) {
    const r = await post('/v1/units', { code, name: `Unit ${code}`, parent });
    assert.equal(r.status, 201, r.text);
  }
  for (const [code, unit] of [['PA', 'A1'], ['PB', 'B']]) {
    const r = await post('/v1/posts', { code, unit, level: 'none' });
    assert.equal(r.status, 201, r.text);
  }
  for (const [id, unit] of [['EA', 'A1'], ['EB', 'B']]) {
    const r = await post('/v1/persons', { id, name: `Person ${id}`, unit });
    assert.equal(r.status, 201, r.text);
  }
}

// A review verdict as a reviewer gives one: on the version they read (the
// route requires If-Match).  When who may not read the review, "*" lets
// the request reach the rule that refuses it.
export async function reviewDecision(srv, who, id, body) {
  const read = await call(srv, 'GET', `/v1/reviews/${id}`, { token: who.token });
  const tag = read.status === 200 ? read.headers.get('etag') : '*';
  return call(srv, 'POST', `/v1/reviews/${id}/decision`, { token: who.token, body, headers: { 'If-Match': tag } });
}
