// The OpenAPI document: valid OpenAPI 3.1 by a standard validator, the
// committed JSON current with the YAML, and served at /v1/openapi.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openapiFromYaml } from './gen-openapi.mjs';
import { spec, startServer, call } from './lib.mjs';

test('docs/openapi.yaml is valid OpenAPI 3.1', async () => {
  const v = new Validator();
  const res = await v.validate(openapiFromYaml());
  assert.ok(res.valid, JSON.stringify(res.errors));
  assert.equal(v.version, '3.1');
});

test('docs/openapi.json is generated from the YAML (run gen-openapi.mjs)', () => {
  assert.deepEqual(spec, openapiFromYaml());
});

test('the server serves the document at /v1/openapi.json', async () => {
  const srv = await startServer();
  try {
    const r = await call(srv, 'GET', '/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, spec);
  } finally {
    assert.deepEqual(await srv.stop(), { code: 0, sig: null });
  }
});
