// The lists that used to answer whole (units, posts, accounts, sessions,
// a person's matters, one's own matters, policy versions) answer a page at
// a time: limit and a sealed cursor of each list's own, keyset by id, so a
// walk of every page is the whole list once and in order, writes between
// pages neither repeat nor skip a row, and an officer's pages hold the
// subtree only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call, login, account, scopedOrg } from './lib.mjs';

let srv, sys, sec, self, aud;
const as = (who, method, path, body, headers) => call(srv, method, path, { token: who.token, body, headers });

// Each list: where it is, who reads it, the member that names an item, and
// a write that adds one more item (made between the pages of a walk).
let n = 0;
const lists = {
  units: { path: '/v1/units', who: () => sec, key: 'code',
    add: async () => as(sec, 'POST', '/v1/units', { code: `U${++n}`, name: 'U', parent: n % 2 ? 'A' : 'B' }) },
  posts: { path: '/v1/posts', who: () => sec, key: 'code',
    add: async () => as(sec, 'POST', '/v1/posts', { code: `P${++n}`, unit: n % 2 ? 'A1' : 'B', level: 'none' }) },
  accounts: { path: '/v1/accounts', who: () => sys, key: 'name',
    add: async () => as(sys, 'POST', '/v1/accounts', { name: `acct${++n}`, password: 'acct-password-1' }) },
  sessions: { path: '/v1/sessions?all=true', who: () => sys, key: 'id',
    add: async () => login(srv, 'auditor') },
  matters: { path: '/v1/persons/EA/matters', who: () => sec, key: 'id',
    add: async () => as(sec, 'POST', '/v1/matters', { person: 'EA', type: 'other', detail: `m${++n}` }) },
  mine: { path: '/v1/me/matters', who: () => self, key: 'id',
    add: async () => as(self, 'POST', '/v1/me/matters', { type: 'other', detail: `own ${++n}` }) },
  persons: { path: '/v1/persons', who: () => sec, key: 'id',
    add: async () => as(sec, 'POST', '/v1/persons', { id: `EP${++n}`, name: 'P', unit: n % 2 ? 'A1' : 'B' }) },
  reviews: { path: '/v1/reviews?state=all', who: () => sec, key: 'id',
    add: async () => {
      const id = `ER${++n}`;
      const p = await as(sec, 'POST', '/v1/persons', { id, name: 'R', unit: 'A1' });
      assert.equal(p.status, 201, p.text);
      return as(sec, 'POST', '/v1/reviews', { person: id, level: 'secret' });
    } },
  audit: { path: '/v1/audit', who: () => aud, key: 'seq',
    add: async () => as(sec, 'POST', '/v1/units', { code: `V${++n}`, name: 'V', parent: 'B' }) },
  policies: { path: '/v1/policy/versions', who: () => sec, key: 'version',
    add: async () => {
      const cur = await as(sec, 'GET', '/v1/policy');
      return as(sec, 'PUT', '/v1/policy', { ...cur.json, audit_denials: !cur.json.audit_denials },
        { 'If-Match': cur.headers.get('etag') });
    } },
};
const q = (path, more) => `${path}${path.includes('?') ? '&' : '?'}${more}`;

// Walks every page of a list `limit` at a time, calling between() after
// each page but the last; returns the items and the pages' sizes.
async function walk(who, path, limit, between = async () => {}) {
  const items = [], sizes = [];
  let cursor = null;
  for (let pages = 0; pages < 500; pages++) {
    const r = await as(who, 'GET', q(path, `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`));
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.ok(r.json.items.length <= limit, `${path}: a page holds at most limit`);
    if (r.json.items.length < limit) assert.equal(r.json.next_cursor, null, `${path}: a short page is the last`);
    // a next_cursor means more exist: the page it asks for is never empty
    if (pages > 0) assert.ok(r.json.items.length > 0, `${path}: page ${pages + 1} is empty, yet the one before gave a next_cursor`);
    items.push(...r.json.items);
    sizes.push(r.json.items.length);
    cursor = r.json.next_cursor;
    if (cursor === null) return { items, sizes };
    await between();
  }
  assert.fail(`${path}: the walk did not end`);
}

before(async () => {
  srv = await startServer();
  sys = await login(srv, 'sysadmin');
  sec = await login(srv, 'secadmin');
  await scopedOrg(srv, sec);
  self = await account(srv, { sys, sec }, 'selfie', 'person', { person: 'EB' });
  aud = await login(srv, 'auditor');
  // a few of each, so a walk two at a time takes several pages
  for (const l of Object.values(lists))
    for (let i = 0; i < 5; i++) assert.ok([200, 201].includes((await l.add()).status ?? 200));
});
after(async () => { assert.deepEqual(await srv.stop(), { code: 0, sig: null }); });

test('every page of each list, walked two at a time, is the whole list once and in order', async () => {
  for (const [name, l] of Object.entries(lists)) {
    const whole = await as(l.who(), 'GET', q(l.path, 'limit=1000'));
    assert.equal(whole.status, 200, `${name}: ${whole.text}`);
    assert.equal(whole.json.next_cursor, null, `${name}: the whole list fits one page of 1000`);
    assert.ok(whole.json.items.length >= 5, `${name}: ${whole.text}`);
    const { items, sizes } = await walk(l.who(), l.path, 2);
    assert.deepEqual(items, whole.json.items, `${name}: the pages are the list`);
    assert.ok(sizes.length >= 3, `${name}: several pages`);
    const keys = items.map((x) => x[l.key]);
    if (typeof keys[0] === 'number') {
      const sorted = [...keys].sort((a, b) => (name === 'sessions' ? b - a : a - b));
      assert.deepEqual(keys, sorted, `${name}: in its documented order`);
    }
  }
});

test('writes between pages neither repeat nor skip a row that was there before', async () => {
  for (const [name, l] of Object.entries(lists)) {
    const before = (await as(l.who(), 'GET', q(l.path, 'limit=1000'))).json.items.map((x) => x[l.key]);
    const { items } = await walk(l.who(), l.path, 2, async () => {
      const r = await l.add();
      assert.ok(r.status === undefined || [200, 201].includes(r.status), `${name}: ${r.text}`);
    });
    const keys = items.map((x) => x[l.key]);
    assert.equal(new Set(keys).size, keys.length, `${name}: no item twice`);
    assert.deepEqual(keys.filter((k) => before.includes(k)), before, `${name}: every earlier item once, in order`);
  }
});

test('without limit a page holds 50, and next_cursor asks for the rest', async () => {
  for (let i = 0; i < 50; i++) assert.equal((await lists.units.add()).status, 201);
  const all = (await as(sec, 'GET', '/v1/units?limit=1000')).json.items;
  assert.ok(all.length > 50);
  const first = await as(sec, 'GET', '/v1/units');
  assert.equal(first.json.items.length, 50);
  assert.notEqual(first.json.next_cursor, null);
  const rest = await as(sec, 'GET', `/v1/units?limit=1000&cursor=${first.json.next_cursor}`);
  assert.deepEqual([...first.json.items, ...rest.json.items], all);
});

test('a bad limit, another list\'s cursor or a bent one is a 400 naming the parameter', async () => {
  const cursors = {};
  for (const [name, l] of Object.entries(lists)) {
    const r = await as(l.who(), 'GET', q(l.path, 'limit=1'));
    assert.notEqual(r.json.next_cursor, null, `${name}: ${r.text}`);
    cursors[name] = r.json.next_cursor;
    assert.equal((await as(l.who(), 'GET', q(l.path, `limit=1&cursor=${cursors[name]}`))).status, 200);
  }
  cursors.persons = (await as(sec, 'GET', '/v1/persons?limit=1')).json.next_cursor;
  for (const [name, l] of Object.entries(lists)) {
    const c = cursors[name];
    const bent = c.slice(0, 10) + (c[10] === 'A' ? 'B' : 'A') + c.slice(11);
    const bad = [['limit=0', 'limit'], ['limit=-1', 'limit'], ['limit=10001', 'limit'], ['limit=abc', 'limit'],
      ['limit=1001', 'limit'], [`cursor=${bent}`, 'cursor'], ['cursor=abc', 'cursor'],
      ...Object.entries(cursors).filter(([other]) => other !== name).map(([, oc]) => [`cursor=${oc}`, 'cursor'])];
    for (const [query, field] of bad) {
      const r = await as(l.who(), 'GET', q(l.path, query));
      assert.equal(r.status, 400, `${name} ${query.slice(0, 20)}: ${r.status} ${r.text}`);
      assert.ok(JSON.stringify(r.json).includes(`"${field}"`), `${name} ${query.slice(0, 20)} names ${field}: ${r.text}`);
    }
  }
});

test('an officer paging units and posts sees only the subtree, every page full of it', async () => {
  const off = await account(srv, { sys, sec }, 'olga', 'officer', { scope: 'A' });
  const units = await walk(off, '/v1/units', 1);
  const unitCodes = units.items.map((u) => u.code);
  const expectUnits = ['A', 'A1', ...(await as(sec, 'GET', '/v1/units?limit=1000')).json.items
    .filter((u) => u.parent === 'A' && u.code !== 'A1').map((u) => u.code)];
  assert.deepEqual([...unitCodes].sort(), [...expectUnits].sort());
  assert.ok(units.sizes.slice(0, -1).every((s) => s === 1), 'no page is short of the subtree');
  assert.equal(units.items.find((u) => u.code === 'A').parent, null, 'the scope root\'s parent stays hidden');
  const posts = await walk(off, '/v1/posts', 1);
  const every = (await as(sec, 'GET', '/v1/posts?limit=1000')).json.items;
  assert.deepEqual(posts.items.map((p) => p.code), every.filter((p) => p.unit === 'A1').map((p) => p.code));
  assert.ok(posts.sizes.slice(0, -1).every((s) => s === 1));
  assert.ok(posts.items.length >= 3 && every.length > posts.items.length);
  const inA1 = await walk(off, '/v1/posts?unit=A1', 2);
  assert.deepEqual(inA1.items, posts.items);
  assert.equal((await as(off, 'GET', '/v1/posts?unit=B&limit=1')).status, 404);
});

// An officer's lists are the subtree's: a cursor from the whole
// organisation's list would start the officer's after a row of another
// unit (and the reverse), so each is refused on the other.
test('an officer\'s cursor and the whole organisation\'s are refused on each other\'s list', async () => {
  const off = await account(srv, { sys, sec }, 'oscar', 'officer', { scope: 'A' });
  for (const path of ['/v1/units', '/v1/posts', '/v1/persons']) {
    const whole = (await as(sec, 'GET', q(path, 'limit=1'))).json.next_cursor;
    const sub = (await as(off, 'GET', q(path, 'limit=1'))).json.next_cursor;
    assert.ok(whole && sub, path);
    for (const [who, c] of [[off, whole], [sec, sub]]) {
      const r = await as(who, 'GET', q(path, `limit=1&cursor=${c}`));
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.deepEqual(r.json.errors.map((x) => x.field), ['cursor'], r.text);
    }
    assert.equal((await as(off, 'GET', q(path, `limit=1&cursor=${sub}`))).status, 200, path);
  }
});

// A cursor is its list's as narrowed: a person's matters, posts or persons
// of a unit, reviews and audit events of a filter, one's own sessions.  A
// cursor only says where a page starts, so one from another person or
// filter was taken and skipped the rows before it (EA's cursor on EB's
// matters started EB's list after EA's last matter id).
test('another person\'s or another filter\'s cursor is a 400 naming cursor; one\'s own walks once', async () => {
  const aud = await login(srv, 'auditor');
  await login(srv, 'sysadmin');
  for (const id of ['EA', 'EB']) {
    const r = await as(sec, 'POST', '/v1/reviews', { person: id, level: 'secret' });
    assert.equal(r.status, 201, r.text);
  }
  const cursorOf = async (who, path) => {
    const r = await as(who, 'GET', q(path, 'limit=1'));
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.notEqual(r.json.next_cursor, null, `${path}: ${r.text}`);
    return r.json.next_cursor;
  };
  // [who, the list a cursor comes from, lists of the same route it is refused by]
  const cases = [
    [sec, '/v1/persons/EA/matters', ['/v1/persons/EB/matters']],
    [sec, '/v1/persons/EB/matters', ['/v1/persons/EA/matters']],
    [sec, '/v1/posts?unit=A1', ['/v1/posts?unit=B', '/v1/posts', '/v1/posts?unit=ORG']],
    [sec, '/v1/posts', ['/v1/posts?unit=A1']],
    [sec, '/v1/persons?unit=ORG', ['/v1/persons', '/v1/persons?unit=A', '/v1/persons?state=candidate']],
    [sec, '/v1/persons', ['/v1/persons?unit=ORG', '/v1/persons?category=general']],
    [sec, '/v1/reviews', ['/v1/reviews?state=all', '/v1/reviews?person=EA']],
    [sec, '/v1/reviews?state=all', ['/v1/reviews', '/v1/reviews?state=approved']],
    [aud, '/v1/audit?actor=secadmin', ['/v1/audit', '/v1/audit?actor=sysadmin', '/v1/audit?actor=secadmin&action=unit.add']],
    [aud, '/v1/audit', ['/v1/audit?since=2000-01-01']],
    [sys, '/v1/sessions?all=true', ['/v1/sessions']],
    [sys, '/v1/sessions', ['/v1/sessions?all=true']],
  ];
  for (const [who, from, others] of cases) {
    const c = await cursorOf(who, from);
    assert.equal((await as(who, 'GET', q(from, `limit=1&cursor=${c}`))).status, 200, `${from}: its own cursor`);
    for (const to of others) {
      const r = await as(who, 'GET', q(to, `limit=1&cursor=${c}`));
      assert.equal(r.status, 400, `${from} -> ${to}: ${r.status} ${r.text}`);
      assert.ok(JSON.stringify(r.json).includes('"cursor"'), `${from} -> ${to} names cursor: ${r.text}`);
    }
    const whole = await as(who, 'GET', q(from, 'limit=1000'));
    assert.deepEqual((await walk(who, from, 3)).items, whole.json.items, `${from}: its own pages are the list`);
  }
  // one's own matters and the same person's matters read by an officer
  const mine = await cursorOf(self, '/v1/me/matters');
  const theirs = await cursorOf(sec, '/v1/persons/EB/matters');
  assert.equal((await as(sec, 'GET', `/v1/persons/EB/matters?cursor=${mine}`)).status, 400);
  assert.equal((await as(self, 'GET', `/v1/me/matters?cursor=${theirs}`)).status, 400);
});

// One convention for every list: next_cursor is there exactly when more
// rows exist (the service reads one row past the page and never shows it).
// A list of a multiple of the limit used to end on a full page with a
// cursor whose page was empty, so a client's "next" could not be trusted.
test('a list of a multiple of the limit ends on a full page whose next_cursor is null', async () => {
  for (const [name, l] of Object.entries(lists)) {
    const whole = (await as(l.who(), 'GET', q(l.path, 'limit=1000'))).json.items;
    const N = whole.length;
    assert.ok(N >= 5, `${name}: ${N}`);
    for (const limit of [1, ...[2, 3, 4, 5].filter((d) => N % d === 0), N]) {
      const { items, sizes } = await walk(l.who(), l.path, limit);
      assert.deepEqual(items, whole, `${name} by ${limit}: the pages are the list`);
      assert.deepEqual(sizes, Array(N / limit).fill(limit), `${name} by ${limit}: every page full, none empty`);
    }
    // one page of exactly the list, and one cut short: no cursor either way
    for (const limit of [N, N + 1]) {
      const r = await as(l.who(), 'GET', q(l.path, `limit=${limit}`));
      assert.equal(r.json.items.length, N, `${name} limit=${limit}`);
      assert.equal(r.json.next_cursor, null, `${name} limit=${limit}: nothing more exists`);
    }
    // one short of the list: a cursor, whose page holds the last row alone
    const first = await as(l.who(), 'GET', q(l.path, `limit=${N - 1}`));
    assert.notEqual(first.json.next_cursor, null, `${name}: one row more exists`);
    const last = await as(l.who(), 'GET', q(l.path, `limit=${N - 1}&cursor=${first.json.next_cursor}`));
    assert.deepEqual(last.json.items, whole.slice(N - 1), `${name}: the row read past the page comes next`);
    assert.equal(last.json.next_cursor, null, `${name}: and is the last`);
  }
});

// The row read past a page is only looked at: the next page starts at it,
// so a walk one row at a time, with rows added between its first pages,
// shows every row once and in order (the new ones too, in an ascending
// list; sessions, newest first, leave those above the first page out).
test('the row read past a page is never shown on it nor skipped, with writes between pages', async () => {
  for (const [name, l] of Object.entries(lists)) {
    let writes = 0;
    const before = (await as(l.who(), 'GET', q(l.path, 'limit=1000'))).json.items.map((x) => x[l.key]);
    const { items } = await walk(l.who(), l.path, 1, async () => {
      if (writes++ < 3) assert.ok([undefined, 200, 201].includes((await l.add()).status), name);
    });
    const after = (await as(l.who(), 'GET', q(l.path, 'limit=1000'))).json.items.map((x) => x[l.key]);
    const keys = items.map((x) => x[l.key]);
    assert.ok(after.length >= before.length + 3, `${name}: the writes added rows`);
    assert.deepEqual(keys, name === 'sessions' ? after.filter((k) => before.includes(k)) : after,
      `${name}: the walk is the list, each row once`);
  }
});

// An officer's page is cut by the rows the officer may see: the review
// list (filtered by subtree in the service) and persons, units and posts
// (in the query) read past the page only rows of the subtree, so a row of
// another unit after the officer's last is no "more".
test('an officer\'s last page has no next_cursor when only rows outside the subtree follow', async () => {
  const off = await account(srv, { sys, sec }, 'otto', 'officer', { scope: 'A' });
  assert.equal((await as(sec, 'POST', '/v1/units', { code: 'ZB', name: 'Z', parent: 'B' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/posts', { code: 'PZB', unit: 'ZB', level: 'none' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/persons', { id: 'EZB', name: 'Z', unit: 'ZB' })).status, 201);
  assert.equal((await as(sec, 'POST', '/v1/reviews', { person: 'EZB', level: 'secret' })).status, 201);
  for (const path of ['/v1/reviews?state=all', '/v1/persons', '/v1/units', '/v1/posts']) {
    const whole = await as(off, 'GET', q(path, 'limit=1000'));
    assert.ok(whole.json.items.length >= 2, `${path}: ${whole.text}`);
    const { items, sizes } = await walk(off, path, 1);
    assert.deepEqual(items, whole.json.items, path);
    assert.deepEqual(sizes, Array(items.length).fill(1), `${path}: no empty last page`);
  }
});

// At the largest limit too: a list of exactly 1000 (units) is one page and
// no cursor; with one more, a cursor whose page holds that one row.  The
// audit trail, grown to a multiple of 1000, ends on a full page likewise.
test('at limit=1000, the most a page holds, the last full page has no next_cursor', async () => {
  const count = async (who, path) => (await walk(who, path, 1000)).items.length;
  const addUnits = async (k) => {
    for (let i = 0; i < k; i += 8)
      await Promise.all(Array.from({ length: Math.min(8, k - i) }, () => lists.audit.add()
        .then((r) => assert.equal(r.status, 201, r.text))));
  };
  await addUnits(1000 - await count(sec, '/v1/units'));
  const all = await as(sec, 'GET', '/v1/units?limit=1000');
  assert.equal(all.json.items.length, 1000);
  assert.equal(all.json.next_cursor, null, 'exactly 1000 units: nothing more exists');
  const by50 = await walk(sec, '/v1/units', 50);
  assert.deepEqual(by50.sizes, Array(20).fill(50));
  assert.deepEqual(by50.items, all.json.items);
  await addUnits(1);
  const first = await as(sec, 'GET', '/v1/units?limit=1000');
  assert.deepEqual(first.json.items, all.json.items, 'the 1001st is read past the page, not shown');
  assert.notEqual(first.json.next_cursor, null);
  const rest = await as(sec, 'GET', `/v1/units?limit=1000&cursor=${first.json.next_cursor}`);
  assert.equal(rest.json.items.length, 1);
  assert.equal(rest.json.items[0].code, `V${n}`, 'the one added last');
  assert.equal(rest.json.next_cursor, null);
  const events = await count(aud, '/v1/audit');
  await addUnits((1000 - (events % 1000)) % 1000);
  const trail = await walk(aud, '/v1/audit', 1000);
  assert.equal(trail.items.length % 1000, 0, `one event a unit: ${trail.items.length}`);
  assert.deepEqual(trail.sizes, Array(trail.items.length / 1000).fill(1000), 'every page full, none empty');
});
