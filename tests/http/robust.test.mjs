// Bad and hostile requests: the body cap, malformed and duplicate-key JSON,
// huge strings and NUL, unknown fields, concurrent If-Match edits, slow
// partial connections, and SIGTERM under load losing no acknowledged write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, call, login } from './lib.mjs';

let srv, sec;
before(async () => {
  srv = await startServer();
  sec = (await login(srv, 'secadmin')).token;
  assert.equal((await call(srv, 'POST', '/v1/units', { token: sec, body: { code: 'HQ', name: 'HQ' } })).status, 201);
  assert.equal((await call(srv, 'POST', '/v1/persons', { token: sec, body: { id: 'E1', name: 'One', unit: 'HQ' } })).status, 201);
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

const post = (raw, ctype = 'application/json') =>
  call(srv, 'POST', '/v1/persons', { token: sec, raw, headers: { 'Content-Type': ctype } });

// Raw HTTP over one socket: the server must answer before the body arrives.
function rawRequest(port, head) {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    s.on('data', (d) => { out += d; if (out.includes('\r\n\r\n') && /\}\s*$/.test(out)) { s.destroy(); resolve(out); } });
    s.on('error', reject);
    s.on('close', () => resolve(out));
    setTimeout(() => { s.destroy(); resolve(out); }, 3000);
  });
}

test('a body over 1 MiB is refused with 413', async () => {
  const port = new URL(srv.url).port;
  const out = await rawRequest(port, `POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sec}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${2 << 20}\r\n\r\n{"id":`);
  assert.match(out, /^HTTP\/1\.1 413/);
  assert.match(out, /application\/problem\+json/);
  // Chunked, without a length: refused once the data passes the cap.
  const r = await post(JSON.stringify({ id: 'E2', name: 'x'.repeat(2 << 20), unit: 'HQ' })).catch((err) => ({ err }));
  if (!r.err) assert.equal(r.status, 413);
});

test('malformed JSON and duplicate keys are 400 naming the place', async () => {
  const a = await post('{"id": "E2", "name": ');
  assert.equal(a.status, 400);
  const b = await post('{"id": "E2", "name": "a", "name": "b", "unit": "HQ"}');
  assert.equal(b.status, 400);
  assert.match(JSON.stringify(b.json.errors), /name/);
  assert.equal((await post('[1,2]')).status, 400);
  assert.equal((await post('')).status, 400);
});

test('wrong types, unknown fields, 10,000-character strings and NUL are 422 with the field', async () => {
  const cases = [
    [{ id: 'E2', name: 5, unit: 'HQ' }, '$.name'],
    [{ id: 'E2', name: 'n', unit: 'HQ', admin: true }, '$.admin'],
    [{ id: 'E2', name: 'n'.repeat(10000), unit: 'HQ' }, '$.name'],
    [{ id: 'E2', name: 'a\u0000b', unit: 'HQ' }, '$.name'],
    [{ id: 'E2', name: '名'.repeat(10000), unit: 'HQ' }, '$.name'],
  ];
  for (const [body, field] of cases) {
    const r = await post(JSON.stringify(body));
    assert.equal(r.status, 422, JSON.stringify(body).slice(0, 80));
    assert.ok(r.json.errors.some((x) => x.field === field), r.text);
  }
  const u = await call(srv, 'GET', '/v1/persons/' + 'x'.repeat(10000), { token: sec });
  assert.ok([400, 404, 414, 431].includes(u.status), String(u.status));
});

test('PATCH needs If-Match: 428 without, 412 when stale', async () => {
  const r = await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'x' } });
  assert.equal(r.status, 428);
  const s = await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'x' }, headers: { 'If-Match': 'W/"999"' } });
  assert.equal(s.status, 412);
  // "*" matches whatever version is current (RFC 9110 13.1.1): the client
  // says it means to overwrite; a missing person is still 404
  const any = await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'Any' }, headers: { 'If-Match': '*' } });
  assert.equal(any.status, 200, any.text);
  assert.equal(any.json.name, 'Any');
  const gone = await call(srv, 'PATCH', '/v1/persons/NOPE', { token: sec, body: { name: 'x' }, headers: { 'If-Match': '*' } });
  assert.equal(gone.status, 404);
  for (const bad of ['**', '"*"', '*, W/"1"'])
    assert.equal((await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'x' }, headers: { 'If-Match': bad } })).status, 412, bad);
});

// Every problem names its request, as X-Request-Id does, so an operator can
// find it in the log: the 428 and 412 of an edit too, not only the table's.
test('a 428 or 412 carries the request id like every other problem', async () => {
  const stale = await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'x' }, headers: { 'If-Match': 'W/"999"' } });
  const missing = await call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name: 'x' } });
  const policy = await call(srv, 'PUT', '/v1/policy', { token: sec, body: {} });
  for (const [r, status] of [[stale, 412], [missing, 428], [policy, 428]]) {
    assert.equal(r.status, status, r.text);
    assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
    assert.equal(r.json.request_id, r.headers.get('x-request-id'), r.text);
  }
});

test('two concurrent If-Match edits: exactly one wins', async () => {
  const g = await call(srv, 'GET', '/v1/persons/E1', { token: sec });
  const etag = g.headers.get('etag');
  assert.match(etag, /^W\/"\d+"$/);
  const edits = await Promise.all(['Alice', 'Bob'].map((name) =>
    call(srv, 'PATCH', '/v1/persons/E1', { token: sec, body: { name }, headers: { 'If-Match': etag } })));
  assert.deepEqual(edits.map((x) => x.status).sort(), [200, 412]);
  const winner = edits.find((x) => x.status === 200).json.name;
  assert.equal((await call(srv, 'GET', '/v1/persons/E1', { token: sec })).json.name, winner);
});

test('200 slow partial connections do not stall a normal request', async () => {
  const socks = await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => {
    const s = net.connect(new URL(srv.url).port, '127.0.0.1', () => {
      s.write('POST /v1/persons HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n'); // never finished
      resolve(s);
    });
    s.on('error', () => resolve(s));
  })));
  try {
    const t = Date.now();
    const r = await call(srv, 'GET', '/v1/persons/E1', { token: sec });
    const ms = Date.now() - t;
    assert.equal(r.status, 200);
    assert.ok(ms < 1000, `took ${ms} ms`);
  } finally {
    socks.forEach((s) => s.destroy());
  }
});

test('SIGTERM under load loses no acknowledged write and exits 0', async () => {
  const own = await startServer();
  const tok = (await login(own, 'secadmin')).token;
  const acked = [];
  let n = 0, stop = false;
  const worker = async () => {
    while (!stop) {
      const code = `L${n++}`;
      try {
        const r = await fetch(own.url + '/v1/units', {
          method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ code, name: code }),
        });
        if (r.status === 201) acked.push(code);
      } catch { stop = true; }
    }
  };
  const workers = Array.from({ length: 16 }, worker);
  await new Promise((r) => setTimeout(r, 400));
  own.proc.kill('SIGTERM');
  const ex = await own.exited;
  stop = true;
  await Promise.all(workers);
  assert.deepEqual(ex, { code: 0, sig: null });
  assert.ok(acked.length > 10, `only ${acked.length} writes acknowledged`);
  const stored = new Set(JSON.parse(own.cli('unit', 'list', '--json')).map((u) => u.code));
  for (const c of acked) assert.ok(stored.has(c), `acknowledged ${c} is missing`);
  assert.match(own.cli('audit', 'verify'), /intact/);
  await own.stop().catch(() => {});
});

// Numbers in paths, queries and ETags are digits, nothing else: no blank,
// sign or trailing text that a lenient reader would skip.
test('ids, limit and If-Match versions are digits only', async () => {
  const cur = (await call(srv, 'GET', '/v1/persons/E1', { token: sec })).headers.get('etag').match(/\d+/)[0];
  for (const bad of [` ${cur}`, `+${cur}`, `${cur} `, `\t${cur}`, `${cur}x`, '-1', '', '99999999999999999999999'])
    assert.equal((await call(srv, 'PATCH', '/v1/persons/E1',
      { token: sec, body: { name: 'x' }, headers: { 'If-Match': `"${bad}"` } })).status, 412, JSON.stringify(bad));
  for (const q of ['%095', '%2B5', '5%20', '05x', '0', '1001', '%EF%BC%95'])
    assert.equal((await call(srv, 'GET', `/v1/persons?limit=${q}`, { token: sec })).status, 400, q);
  assert.equal((await call(srv, 'GET', '/v1/persons?limit=05', { token: sec })).status, 200);
  for (const id of ['%2B1', '%201', '1%20', '0x1'])
    assert.equal((await call(srv, 'GET', `/v1/reviews/${id}`, { token: sec })).status, 404, id);
});
