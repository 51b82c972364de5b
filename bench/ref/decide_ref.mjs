// decide_ref.mjs - the decision rule of baomi in two reference engines
// (casbin, Cedar via @cedar-policy/cedar-wasm) and in plain JavaScript, on
// the data set bench_decide wrote (--out), so bench/decide.sh can compare
// rates measured in the same run on the same data.
//
// Rule: allow iff the person is known and cleared (no failing gate,
// now < valid_until), level >= object level, and the person's compartments
// include all of the object's.  Each engine runs ~2 s on one thread over the
// same query list; every engine's allow ratio over the same sample is
// printed so a disagreement shows.  Prints one JSON line per engine.
import { readFileSync } from 'node:fs';
import { newEnforcer, newModelFromString } from 'casbin';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

const RUN_MS = Number(process.env.RUN_MS || 2000);
const SAMPLE = 20000;

function load(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const h = lines[0].split(' ');
  const now = Number(h[1]), np = Number(h[3]), no = Number(h[5]), nq = Number(h[7]);
  const persons = new Map();
  let at = 1;
  for (let i = 0; i < np; i++, at++) {
    const [id, level, reasons, vu, comps] = lines[at].split(' ');
    persons.set(id, { id, level: Number(level), cleared: reasons === '0',
      valid_until: Number(vu), comps: comps === '-' ? [] : comps.split(',') });
  }
  const objects = [];
  for (let i = 0; i < no; i++, at++) {
    const [level, comps] = lines[at].split(' ');
    objects.push({ id: 'o' + i, level: Number(level), comps: comps === '-' ? [] : comps.split(',') });
  }
  const queries = [];
  for (let i = 0; i < nq; i++, at++) {
    const [id, obj] = lines[at].split(' ');
    queries.push([id, Number(obj)]);
  }
  return { now, persons, objects, queries };
}

// Runs decide(query) for RUN_MS over the queries; returns rate and the
// allow ratio over the first SAMPLE queries.
function measure(name, data, decide) {
  const q = data.queries;
  let allow = 0;
  for (let i = 0; i < SAMPLE; i++) allow += decide(q[i]) ? 1 : 0;
  let n = 0, sink = 0;
  const t0 = process.hrtime.bigint();
  let t1 = t0;
  do {
    for (let i = 0; i < 4096; i++) sink += decide(q[(n + i) % q.length]) ? 1 : 0;
    n += 4096;
    t1 = process.hrtime.bigint();
  } while (Number(t1 - t0) / 1e6 < RUN_MS);
  const rate = n / (Number(t1 - t0) / 1e9);
  console.log(JSON.stringify({ bench: 'decide_ref', engine: name, persons: data.persons.size,
    decisions_per_s: Math.round(rate), allow_ratio_sample: +(allow / SAMPLE).toFixed(4),
    sink: sink > 0 }));
  return rate;
}

function includesAll(have, need) {
  for (const c of need) if (!have.includes(c)) return false;
  return true;
}

function plain(data) {
  const { persons, objects, now } = data;
  return measure('js_plain', data, ([id, oi]) => {
    const p = persons.get(id);
    const o = objects[oi];
    return !!p && p.cleared && now < p.valid_until && p.level >= o.level &&
      includesAll(p.comps, o.comps);
  });
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act, now

[policy_definition]
p = act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.sub.cleared == true && r.now < r.sub.valid_until && \
  r.sub.level >= r.obj.level && includesAll(r.sub.comps, r.obj.comps)
`;

async function casbinRun(data) {
  const e = await newEnforcer(newModelFromString(CASBIN_MODEL));
  await e.addPolicy('read');
  await e.addFunction('includesAll', includesAll);
  const { persons, objects, now } = data;
  const nobody = { cleared: false, level: 0, valid_until: 0, comps: [] };
  return measure('casbin', data, ([id, oi]) =>
    e.enforceSync(persons.get(id) || nobody, objects[oi], 'read', now));
}

const CEDAR_POLICY = `
permit (principal is Person, action == Action::"read", resource is Object)
when {
  principal.cleared && context.now < principal.valid_until &&
  principal.level >= resource.level && principal.comps.containsAll(resource.comps)
};`;

function cedarRun(data) {
  const r = cedar.preparsePolicySet('baomi', { staticPolicies: CEDAR_POLICY });
  if (r.type !== 'success') throw new Error(JSON.stringify(r));
  const { persons, objects, now } = data;
  const ents = new Map();
  for (const [id, p] of persons)
    ents.set(id, { uid: { type: 'Person', id }, parents: [],
      attrs: { cleared: p.cleared, level: p.level, valid_until: p.valid_until, comps: p.comps } });
  const oents = objects.map((o) => ({ uid: { type: 'Object', id: o.id }, parents: [],
    attrs: { level: o.level, comps: o.comps } }));
  const action = { type: 'Action', id: 'read' };
  const context = { now };
  return measure('cedar', data, ([id, oi]) => {
    const pe = ents.get(id);
    const ans = cedar.statefulIsAuthorized({
      principal: { type: 'Person', id }, action, resource: oents[oi].uid, context,
      preparsedPolicySetId: 'baomi', entities: pe ? [pe, oents[oi]] : [oents[oi]],
    });
    if (ans.type !== 'success') throw new Error(JSON.stringify(ans));
    return ans.response.decision === 'allow';
  });
}

const path = process.argv[2];
if (!path) {
  console.error('usage: node decide_ref.mjs DATAFILE');
  process.exit(2);
}
const data = load(path);
plain(data);
await casbinRun(data);
cedarRun(data);
