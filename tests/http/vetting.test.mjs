// Vetting over HTTP: a review opened and decided by distinct accounts,
// appointment gating, activation, clearance, decisions (single and batch),
// the due list and the compliance report, each answer checked against the
// spec by lib.mjs.  Decisions are asked in parallel so that several server
// threads answer them: each must see writes committed on another thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, call, login, account as makeAccount, reviewDecision } from './lib.mjs';

let srv, sys, sec, rev, off;
const as = (who, method, path, body) => call(srv, method, path, { token: who.token, body });
const ask = (person, level, compartments) =>
  as(sec, 'POST', '/v1/decisions', { person, action: 'read', object: { level, compartments } });

// Creates an account as sysadmin (linked to person when given) and grants
// it role (with scope) as secadmin.
const account = (name, role, scope, person) =>
  makeAccount(srv, { sys, sec }, name, role, { scope, person });

before(async () => {
  srv = await startServer();
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  for (const [code, parent] of [['HQ', undefined], ['HQ-R', 'HQ'], ['HQ-A', 'HQ']]) {
    const r = await as(sec, 'POST', '/v1/units', { code, name: code, parent });
    assert.equal(r.status, 201, r.text);
  }
  const p = await as(sec, 'POST', '/v1/posts', { code: 'P-100', unit: 'HQ-R', level: 'secret', compartments: ['ALPHA', 'BRAVO'] });
  assert.equal(p.status, 201, p.text);
  for (const id of ['E1', 'E2', 'E3']) {
    const r = await as(sec, 'POST', '/v1/persons', { id, name: `Person ${id}`, unit: 'HQ-R' });
    assert.equal(r.status, 201, r.text);
  }
  rev = await account('rev-a', 'reviewer');
  off = await account('off-a', 'officer', 'HQ-A');
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

// Opens a review as secadmin, records six clear findings, approves as rev.
async function approvedReview(person, level) {
  const o = await as(sec, 'POST', '/v1/reviews', { person, level });
  assert.equal(o.status, 201, o.text);
  for (let i = 1; i <= 6; i++) {
    const f = await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear', note: `item ${i}` });
    assert.equal(f.status, 200, f.text);
  }
  const d = await reviewDecision(srv, rev, o.json.id, { approve: true, reason: 'all clear' });
  assert.equal(d.status, 200, d.text);
  return d.json;
}

test('a review is opened and decided by distinct accounts', async () => {
  const o = await as(sec, 'POST', '/v1/reviews', { person: 'E2', level: 'secret' });
  assert.equal(o.status, 201, o.text);
  assert.equal(o.json.state, 'open');
  assert.equal(o.json.opened_by, 'secadmin');
  const early = await reviewDecision(srv, rev, o.json.id, { approve: true, reason: 'ok' });
  assert.ok(early.status >= 400 && early.status < 500, early.text);
  assert.match(early.json.detail, /finding/);
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
  const own = await reviewDecision(srv, sec, o.json.id, { approve: true, reason: 'mine' });
  assert.equal(own.status, 403, own.text);
  assert.match(own.json.detail, /may not decide/);
  const d = await reviewDecision(srv, rev, o.json.id, { approve: true, reason: 'fine' });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.state, 'approved');
  const g = await as(rev, 'GET', `/v1/reviews/${o.json.id}`);
  assert.equal(g.status, 200);
  assert.equal(g.json.items.length, 6);
  assert.equal((await as(rev, 'GET', '/v1/reviews/999999')).status, 404);
  assert.equal((await as(rev, 'GET', '/v1/reviews/abc')).status, 404);
  const bad = await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/7`, { finding: 'clear' });
  assert.equal(bad.status, 404, bad.text);
  const wrong = await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/1`, { finding: 42 });
  assert.equal(wrong.status, 422, wrong.text);
});

test('a decision is denied with every reason, then allowed after activation', async () => {
  let r = await ask('E1', 'secret', ['ALPHA', 'ZULU']);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.allow, false);
  const codes = r.json.reasons.map((x) => x.code);
  assert.ok(codes.includes('level_too_low') || codes.length >= 2, codes.join());
  assert.ok(codes.includes('need_to_know'), codes.join());
  assert.ok(r.json.reasons.every((x) => x.message.length > 0));
  const refused = await as(sec, 'POST', '/v1/appointments', { person: 'E1', post: 'P-100' });
  assert.equal(refused.status >= 400, true, refused.text);
  assert.match(refused.text, /review/);
  await approvedReview('E1', 'secret');
  const ap = await as(sec, 'POST', '/v1/appointments', { person: 'E1', post: 'P-100' });
  assert.equal(ap.status, 201, ap.text);
  r = await as(sec, 'POST', '/v1/persons/E1/activate');
  assert.equal(r.status, 204, r.text);
  // Many connections at once, so other server threads answer too.
  const many = await Promise.all(Array.from({ length: 24 }, () => ask('E1', 'secret', ['ALPHA'])));
  for (const m of many) assert.equal(m.json.allow, true, m.text);
  const c = await as(sec, 'GET', '/v1/persons/E1/clearance');
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.cleared, true);
  assert.ok(c.json.gates.every((g) => g.ok && g.message.en && g.message.zh));
  r = await ask('E1', 'top_secret', ['ALPHA', 'ZULU']);
  assert.deepEqual(r.json.reasons.map((x) => x.code).sort(), ['level_too_low', 'need_to_know']);
  // Suspension on one connection is seen by decisions on every thread.
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/suspend', { reason: 'investigation' })).status, 204);
  const after = await Promise.all(Array.from({ length: 24 }, () => ask('E1', 'secret', ['ALPHA'])));
  for (const m of after) {
    assert.equal(m.json.allow, false, m.text);
    assert.ok(m.json.reasons.some((x) => x.code === 'suspended'), m.text);
  }
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/suspend', {})).status, 422);
  assert.equal((await as(sec, 'POST', '/v1/persons/E1/reinstate', { reason: 'cleared' })).status, 204);
  const back = await Promise.all(Array.from({ length: 24 }, () => ask('E1', 'secret', ['ALPHA'])));
  for (const m of back) assert.equal(m.json.allow, true, m.text);
});

test('an unknown person is a denial with 200; a malformed request is 4xx', async () => {
  const r = await ask('NOBODY', 'secret');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.allow, false);
  assert.deepEqual(r.json.reasons.map((x) => x.code), ['unknown_person']);
  assert.equal(typeof r.json.snapshot, 'number');
  const bad = await as(sec, 'POST', '/v1/decisions', { person: 'E1', action: 'read', object: { level: 'galactic' } });
  assert.ok(bad.status >= 400 && bad.status < 500, bad.text);
  const junk = await call(srv, 'POST', '/v1/decisions', { token: sec.token, raw: '{"person":', headers: { 'Content-Type': 'application/json' } });
  assert.ok(junk.status >= 400 && junk.status < 500, junk.text);
});

test('a batch of 1,000 decisions answers each in order and counts in /metrics', async () => {
  const requests = Array.from({ length: 1000 }, (_, i) => ({
    person: i % 2 ? 'E1' : `GHOST${i}`, action: 'read', object: { level: 'secret', compartments: ['ALPHA'] },
  }));
  const r = await as(sec, 'POST', '/v1/decisions/batch', { requests });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.json.results.length, 1000);
  r.json.results.forEach((x, i) => {
    assert.equal(x.person, requests[i].person);
    assert.equal(x.allow, i % 2 === 1, JSON.stringify(x));
  });
  const big = await as(sec, 'POST', '/v1/decisions/batch', { requests: Array(10001).fill(requests[1]) });
  assert.ok(big.status >= 400 && big.status < 500, big.text.slice(0, 300));
  const extra = await as(sec, 'POST', '/v1/decisions/batch', { requests: [], more: 1 });
  assert.equal(extra.status, 422, extra.text);
  const m = await call(srv, 'GET', '/metrics', { token: sys.token });
  const allow = Number(/baomi_decisions_total\{result="allow"\} (\d+)/.exec(m.text)?.[1]);
  const deny = Number(/baomi_decisions_total\{result="deny"\} (\d+)/.exec(m.text)?.[1]);
  assert.ok(allow >= 500 && deny >= 500, m.text.split('\n').filter((l) => l.includes('decision')).join('\n'));
});

// A batch with one bad element is refused whole; the problem names the
// element in errors[].field as well as in the text, and a code repeated in
// an object's compartments is the one code (a set), not a refusal.
test('a bad batch element is named in errors[].field; repeated compartments count once', async () => {
  const good = { person: 'E1', action: 'read', object: { level: 'secret', compartments: ['ALPHA'] } };
  const bad = { ...good, object: { level: 'cosmic' } };
  const r = await as(sec, 'POST', '/v1/decisions/batch', { requests: [good, good, bad, good] });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.errors[0].field, 'requests[2].object.level');
  assert.match(r.json.detail, /^requests\[2\]: object\.level/);
  const many = { ...good, object: { level: 'secret', compartments: Array(5000).fill('ALPHA') } };
  const one = await as(sec, 'POST', '/v1/decisions', many);
  assert.equal(one.status, 200, one.text.slice(0, 300));
  const b = await as(sec, 'POST', '/v1/decisions/batch', { requests: [many, good] });
  assert.equal(b.status, 200, b.text.slice(0, 300));
  assert.equal(b.json.results[0].allow, b.json.results[1].allow);
  assert.deepEqual(b.json.results[0].reasons, b.json.results[1].reasons);
});

// Every error names the member the caller sent: a bad compartment code is
// object.compartments (the snapshot's own word, "compartments", is no
// member of a request), and a batch body's unknown member is named, as a
// single decision's is, instead of blaming "requests".
test('a bad compartment code or an unknown batch member is named where the caller sent it', async () => {
  const good = { person: 'E1', action: 'read', object: { level: 'secret' } };
  for (const code of ['alpha', 'A'.repeat(32), 'Ω']) {
    const one = await as(sec, 'POST', '/v1/decisions', { ...good, object: { level: 'secret', compartments: ['ALPHA', code] } });
    assert.equal(one.status, 422, one.text);
    assert.deepEqual(one.json.errors.map((x) => x.field), ['object.compartments'], one.text);
    assert.match(one.json.detail, /^object\.compartments\[1\]: /);
    const b = await as(sec, 'POST', '/v1/decisions/batch', { requests: [good, { ...good, object: { level: 'secret', compartments: [code] } }] });
    assert.equal(b.status, 422, b.text);
    assert.deepEqual(b.json.errors.map((x) => x.field), ['requests[1].object.compartments'], b.text);
  }
  const extra = await as(sec, 'POST', '/v1/decisions/batch', { requests: [good], verbose: true });
  assert.equal(extra.status, 422, extra.text);
  assert.deepEqual(extra.json.errors.map((x) => x.field), ['verbose'], extra.text);
  const misnamed = await as(sec, 'POST', '/v1/decisions/batch', { decisions: [good] });
  assert.deepEqual(misnamed.json.errors.map((x) => x.field), ['decisions'], misnamed.text);
  const empty = await as(sec, 'POST', '/v1/decisions/batch', {});
  assert.ok(empty.status === 400 || empty.status === 422, empty.text);
  assert.deepEqual(empty.json.errors.map((x) => x.field), ['requests'], empty.text);
  assert.match(empty.json.detail, /required/);
});

test('a member of the wrong JSON type is named as such, not as missing', async () => {
  const good = { person: 'E1', action: 'read', object: { level: 'secret' } };
  const cases = [
    [{ ...good, person: 1001 }, 'person', /^person: a string, not a number/],
    [{ ...good, action: ['read'] }, 'action', /^action: a string, not an array/],
    [{ ...good, object: { level: 7 } }, 'object.level', /^object\.level: a string, not a number/],
    [{ ...good, object: { level: null } }, 'object.level', /^object\.level: a string, not null/],
    [{ ...good, object: 'secret' }, 'object', /^object: an object \{level, compartments\}, not a single value/],
    [{ ...good, object: ['secret'] }, 'object', /^object: an object .* not an array/],
  ];
  for (const [body, field, detail] of cases) {
    const one = await as(sec, 'POST', '/v1/decisions', body);
    assert.equal(one.status, 422, one.text);
    assert.deepEqual(one.json.errors.map((x) => x.field), [field], one.text);
    assert.match(one.json.detail, detail);
    const b = await as(sec, 'POST', '/v1/decisions/batch', { requests: [good, body] });
    assert.deepEqual(b.json.errors.map((x) => x.field), [`requests[1].${field}`], b.text);
  }
  // missing is still "required"
  const none = await as(sec, 'POST', '/v1/decisions', { person: 'E1', action: 'read', object: {} });
  assert.match(none.json.detail, /^object\.level: required/);
});

test('a batch of 10,000 ordinary requests fits the body limit; past it 413', async () => {
  // 111 bytes a request: 1.1 MB, over the server's general 1 MiB body cap
  const one = { person: 'E100234', action: 'read', object: { level: 'top_secret', compartments: ['ALPHA', 'BRAVO', 'CRYPTO'] } };
  const raw = JSON.stringify({ requests: Array(10000).fill(one) });
  assert.ok(raw.length > 1024 * 1024);
  const h = { 'Content-Type': 'application/json' };
  const r = await call(srv, 'POST', '/v1/decisions/batch', { token: sec.token, raw, headers: h });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.json.results.length, 10000);
  assert.deepEqual(r.json.results[0].reasons.map((x) => x.code), ['unknown_person']);
  // the single endpoint keeps the general cap: refused on the announced
  // length (a raw socket, so the early answer is read, not a reset upload)
  const head = await new Promise((resolve, reject) => {
    const u = new URL(srv.url);
    let out = '';
    const c = net.connect(Number(u.port), u.hostname, () => c.write(
      `POST /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sec.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${raw.length}\r\n\r\n{`));
    c.on('data', (d) => { out += d; if (out.includes('\r\n\r\n')) { c.destroy(); resolve(out); } });
    c.on('error', reject);
    setTimeout(() => { c.destroy(); resolve(out); }, 3000);
  });
  assert.match(head, /^HTTP\/1\.1 413/);
});

// The batch route's big body cap is for callers who may use the route:
// anyone else is answered on the headers, before any of the body is held.
test('the batch route refuses a caller who may not use it before reading the body', async () => {
  const head = (auth) => new Promise((resolve, reject) => {
    const u = new URL(srv.url);
    let out = '';
    const c = net.connect(Number(u.port), u.hostname, () => c.write(
      `POST /v1/decisions/batch HTTP/1.1\r\nHost: x\r\n${auth}` +
      'Content-Type: application/json\r\nContent-Length: 8000000\r\n\r\n{'));
    c.on('data', (d) => { out += d; if (out.includes('\r\n\r\n')) { c.destroy(); resolve(out); } });
    c.on('error', reject);
    setTimeout(() => { c.destroy(); resolve(out); }, 3000);
  });
  assert.match(await head(''), /^HTTP\/1\.1 401/);
  assert.match(await head('Authorization: Bearer not-a-token\r\n'), /^HTTP\/1\.1 401/);
  // a sysadmin is logged in but may not decide (three-officer separation)
  assert.match(await head(`Authorization: Bearer ${sys.token}\r\n`), /^HTTP\/1\.1 403/);
  // a caller who may decide is let through to send the body
  const ok = await call(srv, 'POST', '/v1/decisions/batch', { token: sec.token,
    raw: JSON.stringify({ requests: [{ person: 'E1', action: 'read', object: { level: 'secret' } }] }),
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(ok.status, 200, ok.text);
});

test('an officer outside the person\'s scope gets 404 for clearance', async () => {
  const r = await as(off, 'GET', '/v1/persons/E1/clearance');
  assert.equal(r.status, 404, r.text);
  assert.equal((await as(sec, 'GET', '/v1/persons/NOPE/clearance')).status, 404);
});

test('matters, the due list and the compliance report', async () => {
  await approvedReview('E3', 'secret');
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: 'E3', post: 'P-100' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/persons/E3/activate')).status, 204);
  const bad = await as(sec, 'POST', '/v1/matters', { person: 'E3', type: 'gossip' });
  assert.equal(bad.status, 422, bad.text);
  const m = await as(sec, 'POST', '/v1/matters', { person: 'E3', type: 'foreign_marriage', detail: 'spouse abroad' });
  assert.equal(m.status, 201, m.text);
  const leak = await as(sec, 'POST', '/v1/matters', { person: 'E3', type: 'leak', detail: 'usb' });
  assert.equal(leak.status, 201, leak.text);
  assert.equal(leak.json.action, 'suspend');
  assert.equal((await ask('E3', 'secret', ['ALPHA'])).json.allow, false);
  const due = await as(sec, 'GET', '/v1/due?within=90d');
  assert.equal(due.status, 200, due.text);
  assert.ok(due.json.items.some((x) => x.person === 'E3') ||
    due.json.open_reviews?.some((x) => x.person === 'E3'), due.text);
  assert.equal((await as(sec, 'GET', '/v1/due?within=soon')).status >= 400, true);
  const rep = await as(sec, 'GET', '/v1/reports/compliance?unit=HQ');
  assert.equal(rep.status, 200, rep.text);
  const hr = rep.json.units.find((u) => u.unit === 'HQ-R');
  assert.ok(hr && hr.cleared >= 1 && hr.not_cleared >= 1, rep.text);
});

// Attacks on separation of duties that the rules above must also stop over
// HTTP: an officer opening their own review, a suspended person given a
// secret post, and an account posing as the server's own actor.
test('nobody opens their own review, a suspended person takes no secret post, no account is "system"', async () => {
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'SD1', name: 'SD1', unit: 'HQ-R' })).status, 201);
  const selfOff = await account('self-off', 'officer', undefined, 'SD1');
  const own = await as(selfOff, 'POST', '/v1/reviews', { person: 'SD1', level: 'secret' });
  assert.equal(own.status, 403, own.text);
  assert.equal((await as(sec, 'GET', '/v1/persons/SD1')).json.state, 'candidate');
  assert.deepEqual((await as(sec, 'GET', '/v1/reviews?person=SD1&state=all')).json.items, []);

  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'SD2', name: 'SD2', unit: 'HQ-R' })).status, 201);
  await approvedReview('SD2', 'secret');
  assert.equal((await as(sec, 'POST', '/v1/persons/SD2/suspend', { reason: 'inquiry' })).status, 204);
  const ap = await as(sec, 'POST', '/v1/appointments', { person: 'SD2', post: 'P-100' });
  assert.equal(ap.status, 409, ap.text);
  assert.match(ap.json.detail, /suspended/);
  assert.equal((await as(sec, 'POST', '/v1/persons/SD2/reinstate', { reason: 'inquiry closed' })).status, 204);
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: 'SD2', post: 'P-100' })).status, 201);

  for (const name of ['system', 'System']) {
    const r = await call(srv, 'POST', '/v1/accounts', { token: sys.token, body: { name, password: 'system-password-1' } });
    assert.equal(r.status, 422, r.text);
  }
});

// One human may hold several accounts, each linked to their person record:
// the link, not the account name, says who acts.
test('nobody decides their own case, nor twice, through a second account', async () => {
  for (const id of ['E4', 'E5', 'E6', 'E7'])
    assert.equal((await as(sec, 'POST', '/v1/persons', { id, name: id, unit: 'HQ-R' })).status, 201);
  const twinA = await account('twin-a', 'reviewer', undefined, 'E90');
  const twinB = await account('twin-b', 'reviewer', undefined, 'E90');
  const items = async (who, id) => {
    for (let i = 1; i <= 6; i++)
      assert.equal((await as(who, 'PUT', `/v1/reviews/${id}/items/${i}`, { finding: 'clear' })).status, 200);
  };
  // A core review needs two distinct people, not two accounts of one.
  const core = await as(sec, 'POST', '/v1/reviews', { person: 'E4', level: 'top_secret' });
  assert.equal(core.status, 201, core.text);
  await items(sec, core.json.id);
  let d = await reviewDecision(srv, twinA, core.json.id, { approve: true, reason: 'ok' });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.state, 'open');
  d = await reviewDecision(srv, twinB, core.json.id, { approve: true, reason: 'ok again' });
  assert.equal(d.status, 403, d.text);
  assert.match(d.json.detail, /same person/);
  let g = await as(rev, 'GET', `/v1/reviews/${core.json.id}`);
  assert.equal(g.json.state, 'open');
  assert.equal(g.json.approvals.length, 1);
  d = await reviewDecision(srv, rev, core.json.id, { approve: true, reason: 'concur' });
  assert.equal(d.json.state, 'approved', d.text);
  // The opener's other account decides neither way.
  const opener = await account('twin-off', 'officer', undefined, 'E91');
  const openerTwin = await account('twin-rev', 'reviewer', undefined, 'E91');
  const o = await as(opener, 'POST', '/v1/reviews', { person: 'E5', level: 'secret' });
  assert.equal(o.status, 201, o.text);
  await items(opener, o.json.id);
  for (const approve of [true, false]) {
    d = await reviewDecision(srv, openerTwin, o.json.id, { approve, reason: 'mine' });
    assert.equal(d.status, 403, d.text);
    assert.match(d.json.detail, /opened/);
  }
  g = await as(rev, 'GET', `/v1/reviews/${o.json.id}`);
  assert.equal(g.json.state, 'open');
  assert.deepEqual(g.json.approvals, []);
  // The person under review records no finding on their own case.
  const self = await account('self-rev', 'reviewer', undefined, 'E6');
  const mine = await as(sec, 'POST', '/v1/reviews', { person: 'E6', level: 'secret' });
  const f = await as(self, 'PUT', `/v1/reviews/${mine.json.id}/items/1`, { finding: 'clear', note: 'all fine' });
  assert.equal(f.status, 403, f.text);
  assert.deepEqual((await as(rev, 'GET', `/v1/reviews/${mine.json.id}`)).json.items, []);
  // A security administrator does not lift their own suspension.
  const selfSec = await account('self-sec', 'secadmin', undefined, 'E7');
  assert.equal((await as(sec, 'POST', '/v1/persons/E7/suspend', { reason: 'inquiry' })).status, 204);
  const lift = await as(selfSec, 'POST', '/v1/persons/E7/reinstate', { reason: 'I am fine' });
  assert.equal(lift.status, 403, lift.text);
  // The suspension still stands: someone else lifts it, once.
  assert.equal((await as(sec, 'POST', '/v1/persons/E7/reinstate', { reason: 'inquiry closed' })).status, 204);
  assert.equal((await as(sec, 'POST', '/v1/persons/E7/reinstate', { reason: 'again' })).status, 409);
});

test('a reason of nothing but Unicode spaces is no reason', async () => {
  for (const reason of ['\u3000', '\u00a0 \u3000', '\u2003\t', '\ufeff'])
    for (const path of ['/v1/persons/E2/suspend', '/v1/persons/E2/reinstate']) {
      const r = await as(sec, 'POST', path, { reason });
      assert.equal(r.status, 422, `${path} ${JSON.stringify(reason)}: ${r.text}`);
      assert.equal(r.json.errors?.[0]?.field ?? 'reason', 'reason', r.text);
    }
  const c = await as(sec, 'GET', '/v1/persons/E2/clearance');
  assert.ok(c.json.gates.every((x) => x.code !== 'suspended' || x.ok), c.text);
});

test('the checklist is frozen once someone has decided: both approvers approve the same findings', async () => {
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'E8', name: 'E8', unit: 'HQ-R' })).status, 201);
  const o = await as(sec, 'POST', '/v1/reviews', { person: 'E8', level: 'top_secret' });
  assert.equal(o.status, 201, o.text);
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' })).status, 200);
  const first = await reviewDecision(srv, rev, o.json.id, { approve: true, reason: 'all clear' });
  assert.equal(first.json.state, 'open', first.text);
  const edit = await as(sec, 'PUT', `/v1/reviews/${o.json.id}/items/3`, { finding: 'concern', note: 'debts abroad' });
  assert.equal(edit.status, 409, edit.text);
  assert.match(edit.json.detail, /decided/);
  const g = await as(rev, 'GET', `/v1/reviews/${o.json.id}`);
  assert.ok(g.json.items.every((x) => x.finding === 'clear'), g.text);
});

test('a due horizon near the end of time lists what a century lists', async () => {
  const century = await as(sec, 'GET', '/v1/due?within=36500d');
  assert.equal(century.status, 200, century.text);
  assert.ok(century.json.items.length >= 1, century.text);
  // 106751991167299 days is the largest count of days whose seconds fit in
  // 64 bits: now + within must saturate, not wrap into the past.
  const far = await as(sec, 'GET', '/v1/due?within=106751991167299d');
  assert.equal(far.status, 200, far.text);
  assert.deepEqual(far.json.items.map((x) => x.person + x.gate),
    century.json.items.map((x) => x.person + x.gate));
  for (const x of far.json.items)
    assert.equal(x.reminder_days === 0 || !x.overdue, true, JSON.stringify(x));
});

// The CLI's JSON for the same question, parsed (the server's database).
const cliJson = (...args) => JSON.parse(srv.cli(...args, '--json'));
// A problem's body without its request id, with one id put for another: an
// officer's answer about a person outside their subtree must read exactly
// as the one about a person that does not exist.
const as404 = (r, from, to) => {
  assert.equal(r.status, 404, r.text);
  const { request_id, ...rest } = JSON.parse(r.text.replaceAll(from, to));
  return rest;
};
// The CLI's exit code for args (0 when it succeeds).
function cliStatus(...args) {
  try { srv.cli(...args); return 0; } catch (err) { return err.status; }
}

test('GET /v1/reviews lists every open review, or one person\'s, as `baomi review list` does', async () => {
  for (const id of ['E20', 'E21'])
    assert.equal((await as(sec, 'POST', '/v1/persons', { id, name: id, unit: 'HQ-R' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'EA1', name: 'EA1', unit: 'HQ-A' })).status, 201);
  const open = await as(sec, 'POST', '/v1/reviews', { person: 'E20', level: 'secret' });
  assert.equal(open.status, 201, open.text);
  const done = await approvedReview('E21', 'confidential');
  const mine = await as(off, 'POST', '/v1/reviews', { person: 'EA1', level: 'secret' });
  assert.equal(mine.status, 201, mine.text);

  const all = await as(sec, 'GET', '/v1/reviews');
  assert.equal(all.status, 200, all.text);
  assert.ok(all.json.items.every((r) => r.state === 'open'), all.text);
  const ids = all.json.items.map((r) => r.id);
  assert.ok(ids.includes(open.json.id) && ids.includes(mine.json.id), all.text);
  assert.ok(!ids.includes(done.id), 'an approved review is not open');
  assert.deepEqual(all.json.items, cliJson('review', 'list'));

  const one = await as(rev, 'GET', '/v1/reviews?person=E21');
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json.items.map((r) => [r.id, r.state]), [[done.id, 'approved']]);
  assert.deepEqual(one.json.items, cliJson('review', 'list', 'E21'));
  assert.deepEqual((await as(sec, 'GET', '/v1/reviews?person=E3')).json.items, cliJson('review', 'list', 'E3'));

  for (const q of ['NOPE', '', 'E21%00', '%FF', 'x'.repeat(300)]) {
    const r = await as(sec, 'GET', `/v1/reviews?person=${q}`);
    assert.ok(r.status === 404 || r.status === 400, `${q}: ${r.status} ${r.text}`);
  }
  assert.equal((await as(sec, 'GET', '/v1/reviews?person=NOPE')).status, 404);
  // a NUL does not cut the id short: E21%00x is not E21
  assert.equal((await as(sec, 'GET', '/v1/reviews?person=E21%00x')).status, 400);
  assert.equal((await as(sec, 'GET', '/v1/reviews?person=E21%00')).status, 400);
  assert.notEqual(cliStatus('review', 'list', 'NOPE'), 0);

  // An officer scoped to HQ-A sees HQ-A's open reviews only; a person of
  // HQ-R answers like one that does not exist.
  const scoped = await as(off, 'GET', '/v1/reviews');
  assert.equal(scoped.status, 200, scoped.text);
  assert.deepEqual(scoped.json.items.map((r) => r.person), ['EA1']);
  assert.deepEqual(as404(await as(off, 'GET', '/v1/reviews?person=E21'), 'E21', 'E2Z'),
    as404(await as(off, 'GET', '/v1/reviews?person=E2Z'), 'E2Z', 'E2Z'));
  assert.equal((await as(off, 'GET', '/v1/reviews?person=EA1')).json.items.length, 1);
});

test('GET /v1/reviews pages by id with limit and cursor, and state widens or narrows it', async () => {
  const every = await as(sec, 'GET', '/v1/reviews?state=all&limit=1000');
  assert.equal(every.status, 200, every.text);
  assert.equal(every.json.next_cursor, null);
  assert.ok(every.json.items.length >= 3, every.text);
  assert.deepEqual(every.json.items, cliJson('review', 'list', '--state', 'all'));
  const ids = every.json.items.map((r) => r.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'listed by id');
  // walk it two at a time: the pages together are the whole list, in order
  const walked = [];
  let cursor = null;
  for (let n = 0; n < 100; n++) {
    const r = await as(sec, 'GET', `/v1/reviews?state=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length <= 2);
    walked.push(...r.json.items.map((x) => x.id));
    cursor = r.json.next_cursor;
    if (cursor === null) break;
  }
  assert.deepEqual(walked, ids);
  const approved = await as(sec, 'GET', '/v1/reviews?state=approved&limit=1000');
  assert.ok(approved.json.items.length > 0 && approved.json.items.every((r) => r.state === 'approved'), approved.text);
  assert.deepEqual((await as(sec, 'GET', '/v1/reviews?person=E21&state=open')).json.items, []);
  for (const [q, field] of [['state=Open', 'state'], ['state=', 'state'], ['limit=0', 'limit'],
    ['limit=1001', 'limit'], ['limit=2x', 'limit'], ['cursor=abc', 'cursor']]) {
    const r = await as(sec, 'GET', `/v1/reviews?${q}`);
    assert.ok(r.status === 400 || r.status === 422, `${q}: ${r.status} ${r.text}`);
    assert.ok(JSON.stringify(r.json).includes(`"${field}"`), `${q} names ${field}: ${r.text}`);
  }
  // a cursor another list gave out is not this list's
  const persons = await as(sec, 'GET', '/v1/persons?limit=1');
  assert.equal((await as(sec, 'GET', `/v1/reviews?cursor=${persons.json.next_cursor}`)).status, 400);
  // a cursor is sealed: it shows no row id (whose gaps would count records
  // outside a scope), and one changed character makes it no cursor at all
  const page = await as(sec, 'GET', '/v1/reviews?state=all&limit=1');
  const c0 = (p) => p.json.next_cursor;
  const raw = Buffer.from(page.json.next_cursor, 'base64url');
  assert.equal(raw.length, 56, 'the id and the list\'s scope, 8 bytes each, sealed (nonce 24, tag 16)');
  assert.ok(!raw.toString('latin1').startsWith('r.'), 'the id reads in clear');
  const again = await as(sec, 'GET', '/v1/reviews?state=all&limit=1');
  assert.notEqual(again.json.next_cursor, c0(page), 'the same position seals differently each time');
  const c = page.json.next_cursor;
  const bent = c.slice(0, 10) + (c[10] === 'A' ? 'B' : 'A') + c.slice(11);
  assert.equal((await as(sec, 'GET', `/v1/reviews?state=all&cursor=${bent}`)).status, 400);
  assert.equal((await as(sec, 'GET', `/v1/reviews?state=all&cursor=${c}`)).status, 200);
  assert.notEqual(cliStatus('review', 'list', '--state', 'bogus'), 0);
});

test('a review edit or decision with If-Match applies to the version read, else 412', async () => {
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'EV1', name: 'EV1', unit: 'HQ-R' })).status, 201);
  const o = await as(sec, 'POST', '/v1/reviews', { person: 'EV1', level: 'secret' });
  assert.equal(o.status, 201, o.text);
  const path = `/v1/reviews/${o.json.id}`;
  for (let i = 1; i <= 6; i++)
    assert.equal((await as(sec, 'PUT', `${path}/items/${i}`, { finding: 'clear' })).status, 200);
  const read = await as(rev, 'GET', path);
  const tag = read.headers.get('etag');
  assert.equal(tag, `W/"${read.json.version}"`);
  // the officer changes a finding after the reviewer read the case
  const edit = await call(srv, 'PUT', `${path}/items/4`,
    { token: sec.token, body: { finding: 'concern', note: 'new debts' }, headers: { 'If-Match': tag } });
  assert.equal(edit.status, 200, edit.text);
  assert.equal(edit.headers.get('etag'), `W/"${read.json.version + 1}"`);
  // without If-Match the verdict could land on a checklist its reviewer never read
  const blind = await call(srv, 'POST', `${path}/decision`, { token: rev.token, body: { approve: true, reason: 'x' } });
  assert.equal(blind.status, 428, blind.text);
  const stale = await call(srv, 'POST', `${path}/decision`,
    { token: rev.token, body: { approve: true, reason: 'all clear' }, headers: { 'If-Match': tag } });
  assert.equal(stale.status, 412, stale.text);
  assert.equal((await as(rev, 'GET', path)).json.state, 'open', 'a refused approval left nothing');
  for (const bad of ['7', '"x"', 'W/7'])
    assert.equal((await call(srv, 'POST', `${path}/decision`,
      { token: rev.token, body: { approve: true, reason: 'x' }, headers: { 'If-Match': bad } })).status, 412, bad);
  const ok = await call(srv, 'POST', `${path}/decision`,
    { token: rev.token, body: { approve: true, reason: 'concern weighed' }, headers: { 'If-Match': edit.headers.get('etag') } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.state, 'approved');
});

test('GET /v1/persons/{id}/matters lists a person\'s matters, as `baomi matter list` does', async () => {
  const r = await as(rev, 'GET', '/v1/persons/E3/matters');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.items.map((m) => m.type), ['foreign_marriage', 'leak']);
  assert.ok(r.json.items.every((m) => m.person === 'E3' && m.filed_by === 'secadmin'));
  assert.deepEqual(r.json.items, cliJson('matter', 'list', 'E3').matters);
  const none = await as(sec, 'GET', '/v1/persons/E2/matters');
  assert.deepEqual(none.json.items, []);
  for (const id of ['NOPE', 'E3%20', '%E4%B8', 'x'.repeat(300)]) {
    const bad = await as(sec, 'GET', `/v1/persons/${id}/matters`);
    assert.ok(bad.status === 404 || bad.status === 400, `${id}: ${bad.status} ${bad.text}`);
  }
  assert.equal((await as(sec, 'GET', '/v1/persons/NOPE/matters')).status, 404);
  assert.deepEqual(as404(await as(off, 'GET', '/v1/persons/E3/matters'), 'E3', 'E3X'),
    as404(await as(off, 'GET', '/v1/persons/E3X/matters'), 'E3X', 'E3X'));
  // /v1/me/matters stays the person's own: secadmin has no linked person
  assert.equal((await as(sec, 'GET', '/v1/me/matters')).status, 403);
});

test('POST /v1/persons/{id}/appointments/{appointment}/end ends it, as `baomi appointment end` does', async () => {
  const appts = {};
  for (const id of ['E30', 'E31']) {
    assert.equal((await as(sec, 'POST', '/v1/persons', { id, name: id, unit: 'HQ-R' })).status, 201);
    await approvedReview(id, 'secret');
    const a = await as(sec, 'POST', '/v1/appointments', { person: id, post: 'P-100' });
    assert.equal(a.status, 201, a.text);
    appts[id] = a.json.id;
    assert.equal((await as(sec, 'POST', `/v1/persons/${id}/activate`)).status, 204);
  }
  const end = (who, person, appt, body, opts) =>
    call(srv, 'POST', `/v1/persons/${person}/appointments/${appt}/end`, { token: who.token, body, ...opts });
  const json = { 'Content-Type': 'application/json' };

  // bad input: nothing changes
  for (const appt of ['abc', '0', '-1', '+1', '99999999', appts.E31])
    assert.equal((await end(sec, 'E30', appt)).status, 404, `appointment ${appt}`);
  assert.equal((await end(sec, 'NOPE', appts.E30)).status, 404);
  for (const date of ['soon', '2024-02-30', '2999-01-01', '2000-01-01', ''.padEnd(40, '9')]) {
    const r = await end(sec, 'E30', appts.E30, { date });
    assert.equal(r.status, 422, `${date}: ${r.text}`);
  }
  for (const body of [{ date: 20240101 }, { date: null, when: 'today' }, { when: 'today' }, { date: ['2024-01-01'] }]) {
    const r = await end(sec, 'E30', appts.E30, body);
    assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
  }
  for (const raw of ['[1]', '{"date":', '"2024-01-01"', '{"date":"2024-01-01","date":"2024-01-02"}']) {
    const r = await end(sec, 'E30', appts.E30, undefined, { raw, headers: json });
    assert.ok(r.status === 400 || r.status === 422, `${raw}: ${r.status} ${r.text}`);
  }
  // an officer outside the subtree: the person does not exist
  assert.deepEqual(as404(await end(off, 'E30', appts.E30), 'E30', 'E3Z'),
    as404(await end(off, 'E3Z', appts.E30), 'E3Z', 'E3Z'));
  let p = await as(sec, 'GET', '/v1/persons/E30');
  assert.equal(p.json.appointments.find((a) => a.id === appts.E30).open, true, 'still open');

  // over HTTP (no body: today) and through the CLI: the same outcome
  const ok = await end(sec, 'E30', appts.E30);
  assert.equal(ok.status, 204, ok.text);
  assert.deepEqual(cliJson('appointment', 'end', 'E31', String(appts.E31)), { id: appts.E31, ended: true });
  const [a, b] = [(await as(sec, 'GET', '/v1/persons/E30')).json, (await as(sec, 'GET', '/v1/persons/E31')).json];
  for (const [v, id] of [[a, appts.E30], [b, appts.E31]]) {
    const ap = v.appointments.find((x) => x.id === id);
    assert.equal(ap.open, false, JSON.stringify(v));
    assert.equal(ap.end, new Date().toISOString().slice(0, 10));
  }
  for (const k of ['state', 'category', 'level', 'compartments']) assert.deepEqual(a[k], b[k], k);
  assert.deepEqual((await as(sec, 'GET', '/v1/persons/E30/clearance')).json.cleared, false);
  // ending it again is refused by both
  const again = await end(sec, 'E31', appts.E31, { date: new Date().toISOString().slice(0, 10) });
  assert.equal(again.status, 409, again.text);
  assert.notEqual(cliStatus('appointment', 'end', 'E30', String(appts.E30)), 0);
  const log = cliJson('audit', 'log', '--action', 'appointment.end');
  assert.deepEqual((log.items ?? log).map((x) => x.subjects[0]).sort(), ['E30', 'E31']);
});

test('GET /v1/policy/versions lists the stored versions, as `baomi policy versions` does', async () => {
  const r = await as(off, 'GET', '/v1/policy/versions');
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.items.length >= 1);
  const cur = (await as(sec, 'GET', '/v1/policy')).json;
  assert.equal(r.json.items.at(-1).version, cur.version);
  assert.deepEqual(r.json.items, cliJson('policy', 'versions'));
});

// "Due re-reviews are opened automatically and listed": a server whose clock
// the test moves opens the re-review on its own; GET /v1/reviews lists it.
test('a re-review falling due is opened by the server and listed by GET /v1/reviews', async () => {
  const s2 = await startServer({ env: { BAOMI_TEST_CLOCK: '1' }, args: ['--maintenance-interval', '1'] });
  try {
    const c = (who, method, path, body) => call(s2, method, path, { token: who.token, body });
    let a = await login(s2, 'secadmin');
    const sys2 = await login(s2, 'sysadmin');
    assert.equal((await c(a, 'POST', '/v1/units', { code: 'HQ', name: 'HQ' })).status, 201);
    assert.equal((await c(a, 'POST', '/v1/posts', { code: 'P', unit: 'HQ', level: 'secret' })).status, 201);
    assert.equal((await c(a, 'POST', '/v1/persons', { id: 'D1', name: 'D1', unit: 'HQ' })).status, 201);
    assert.equal((await c(sys2, 'POST', '/v1/accounts', { name: 'rv', password: 'rv-password-1' })).status, 201);
    assert.equal((await c(a, 'PUT', '/v1/accounts/rv/roles/reviewer')).status, 204);
    const r2 = await login(s2, 'rv', 'rv-password-1');
    const o = await c(a, 'POST', '/v1/reviews', { person: 'D1', level: 'secret' });
    for (let i = 1; i <= 6; i++) await c(a, 'PUT', `/v1/reviews/${o.json.id}/items/${i}`, { finding: 'clear' });
    const d = await reviewDecision(s2, r2, o.json.id, { approve: true, reason: 'ok' });
    assert.equal(d.json.state, 'approved', d.text);
    assert.equal((await c(a, 'POST', '/v1/appointments', { person: 'D1', post: 'P' })).status, 201);
    assert.equal((await c(a, 'POST', '/v1/persons/D1/activate')).status, 204);
    assert.deepEqual((await c(a, 'GET', '/v1/reviews')).json.items, []);
    // a day before the review's validity ends: inside every reminder offset
    const later = new Date(Date.parse(d.json.valid_until) - 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await call(s2, 'POST', '/v1/test/clock', { body: { now: later } })).status, 204);
    a = await login(s2, 'secadmin');
    let items = [];
    for (let i = 0; i < 50 && items.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 200));
      items = (await c(a, 'GET', '/v1/reviews')).json.items;
    }
    assert.equal(items.length, 1, 'the maintenance thread opened the re-review');
    assert.deepEqual([items[0].person, items[0].trigger, items[0].state, items[0].opened_by],
      ['D1', 'rereview', 'open', 'system']);
    assert.deepEqual((await c(a, 'GET', '/v1/reviews?person=D1')).json.items.map((x) => x.state).sort(),
      ['approved', 'open']);
  } finally {
    assert.deepEqual(await s2.stop(), { code: 0, sig: null });
  }
});

// Each gate's since is when its outcome began (ARCHITECTURE.md "Since and
// valid_until"): the review's final approval, on_post since the post was
// taken up (activation, not the appointment's midnight before it) and not
// restarted by a reinstatement, not_suspended since the person's record
// began and then since the reinstatement.  The acceptance review read
// not_suspended "since null" and on_post dated at midnight.
test('clearance: each gate says since when its outcome began', async () => {
  const secs = () => Math.floor(Date.now() / 1000);
  const at = (s) => (s === null ? null : Date.parse(s) / 1000);
  const gates = async () => {
    const c = await as(sec, 'GET', '/v1/persons/ES1/clearance');
    assert.equal(c.status, 200, c.text);
    return [c.json, Object.fromEntries(c.json.gates.map((g) => [g.gate, g]))];
  };
  const made0 = secs();
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'ES1', name: 'Person ES1', unit: 'HQ-R' })).status, 201);
  const made1 = secs();
  let [, g] = await gates();
  assert.equal(g.secret_post.code, 'no_secret_post');
  assert.ok(at(g.secret_post.since) >= made0 && at(g.secret_post.since) <= made1, g.secret_post.since);
  const rv = await approvedReview('ES1', 'secret');
  assert.equal((await as(sec, 'POST', '/v1/appointments', { person: 'ES1', post: 'P-100' })).status, 201);
  const act0 = secs();
  assert.equal((await as(sec, 'POST', '/v1/persons/ES1/activate')).status, 204);
  const act1 = secs();
  let c;
  [c, g] = await gates();
  assert.equal(c.cleared, true);
  assert.equal(g.review.since, rv.decided_at);
  assert.equal(g.review.valid_until, c.valid_until);
  assert.ok(at(g.on_post.since) >= act0 && at(g.on_post.since) <= act1, g.on_post.since);
  assert.ok(at(g.not_suspended.since) >= made0 && at(g.not_suspended.since) <= made1, g.not_suspended.since);
  assert.equal(g.not_suspended.valid_until, null);
  const taken = g.on_post.since;
  assert.equal((await as(sec, 'POST', '/v1/persons/ES1/suspend', { reason: 'inquiry' })).status, 204);
  [c, g] = await gates();
  assert.equal(g.not_suspended.code, 'suspended');
  assert.equal(c.valid_until, null);
  const back0 = secs();
  assert.equal((await as(sec, 'POST', '/v1/persons/ES1/reinstate', { reason: 'closed' })).status, 204);
  const back1 = secs();
  [c, g] = await gates();
  assert.equal(c.cleared, true);
  assert.ok(at(g.not_suspended.since) >= back0 && at(g.not_suspended.since) <= back1, g.not_suspended.since);
  assert.equal(g.on_post.since, taken);
});
