// Regenerates docs/openapi.json (served at /v1/openapi.json) from the
// source of truth docs/openapi.yaml: `node tests/http/gen-openapi.mjs`.
// The test suite fails when the committed JSON is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
export function openapiFromYaml() {
  return parse(readFileSync(root + 'docs/openapi.yaml', 'utf8'));
}
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(root + 'docs/openapi.json', JSON.stringify(openapiFromYaml(), null, 1) + '\n');
}
