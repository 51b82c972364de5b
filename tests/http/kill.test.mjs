// Every kind of write, over the CLI and over HTTP, killed with SIGKILL at a
// random moment, once each (kill.mjs says what is checked afterwards; `make
// killtest` runs many rounds).  The seed is printed so a failure repeats:
// `node tests/http/kill.mjs ROUNDS SEED`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KillTest } from './kill.mjs';

test('a killed write leaves the database whole and truthful, and the server restarts', { timeout: 300000 }, async (t) => {
  const k = new KillTest({ rounds: 1, log: (s) => t.diagnostic(s) });
  t.diagnostic(`seed ${k.seed}`);
  const problems = await k.run();
  assert.deepEqual(problems, [], `seed ${k.seed}: ${problems.join('\n')}`);
  assert.ok(k.kills > 20, `only ${k.kills} kills hit a running process`);
});
