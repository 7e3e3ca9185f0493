// Vendors the official Kubernetes v1.32 OpenAPI v2 document into src/api/openapi/ with every
// documentation `description` removed (upstream prose is not ours; the structure is fact).
// Usage: node --import tsx scripts/vendor_openapi.ts [SOURCE_JSON]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const defaultSource = join(root, '../shared/reference/kubernetes-v1.32-openapi-v2.json');
const outDir = join(root, 'src/api/openapi');
const outFile = 'kubernetes-v1.32-openapi-v2.json';

/**
 * Drops every `description` whose value is a string. Keys of a `properties` map are field names,
 * not schema keywords, so a field called "description" (JSONSchemaProps has one) survives.
 */
export function stripDescriptions(value: unknown, keysAreFieldNames = false): unknown {
  if (Array.isArray(value)) return value.map((v) => stripDescriptions(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (!keysAreFieldNames && key === 'description' && typeof child === 'string') continue;
    out[key] = stripDescriptions(child, !keysAreFieldNames && key === 'properties');
  }
  return out;
}

function provenance(sourceBytes: number, outBytes: number): string {
  return `# Provenance of kubernetes-v1.32-openapi-v2.json

- **Source**: the official OpenAPI v2 document of Kubernetes v1.32
  (\`api/openapi-spec/swagger.json\` of kubernetes/kubernetes at v1.32, which lists every API group,
  alpha and beta ones included), copied here from \`../shared/reference/kubernetes-v1.32-openapi-v2.json\`.
- **License**: Apache License 2.0, Copyright The Kubernetes Authors.
- **Changes**: every documentation \`description\` string was removed (object keys named
  \`description\` whose value is a string; a schema *field* named \`description\`, as in JSONSchemaProps,
  is kept). Nothing else was changed: paths, definitions, parameters, \`x-kubernetes-*\` extensions,
  required lists and formats are as upstream published them. The file is minified.
- **Size**: ${sourceBytes} bytes upstream, ${outBytes} bytes here.
- **Regenerate**: \`node --import tsx scripts/vendor_openapi.ts\`, then
  \`node --import tsx scripts/gen_types.ts\` and \`node --import tsx scripts/gen_resources.ts\`
  (types in \`src/api/types/\` and \`src/api/resource_table.generated.ts\` are derived from this file).
`;
}

function main(): void {
  const source = process.argv[2] ?? defaultSource;
  const text = readFileSync(source, 'utf8');
  const stripped = JSON.stringify(stripDescriptions(JSON.parse(text)));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, outFile), stripped);
  writeFileSync(join(outDir, 'PROVENANCE.md'), provenance(Buffer.byteLength(text), Buffer.byteLength(stripped)));
  console.log(`wrote ${join(outDir, outFile)} (${Buffer.byteLength(stripped)} bytes)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
