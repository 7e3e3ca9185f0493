// Generates src/api/types/*.ts (one file per group-version, e.g. core_v1.ts, apps_v1.ts, meta_v1.ts)
// from the definitions of the vendored OpenAPI document, so no type is retyped by hand.
// Usage: node --import tsx scripts/gen_types.ts
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const specFile = join(root, 'src/api/openapi/kubernetes-v1.32-openapi-v2.json');
const outDir = join(root, 'src/api/types');

interface Schema {
  type?: string;
  format?: string;
  $ref?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

/** Definitions whose Go type serializes as something other than its OpenAPI shape suggests. */
const SPECIAL: Record<string, string> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': 'string',
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': 'number | string',
  'io.k8s.apimachinery.pkg.runtime.RawExtension': 'unknown',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': 'string',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': 'string',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': 'Record<string, unknown>',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': 'Record<string, unknown>',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': 'unknown',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': 'unknown',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': 'unknown',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': 'unknown',
};

/** "io.k8s.api.core.v1.Pod" -> { file: "core_v1", name: "Pod" }. */
export function definitionLocation(definition: string): { file: string; name: string } {
  const dot = definition.lastIndexOf('.');
  const pkg = definition.slice(0, dot);
  const name = definition.slice(dot + 1);
  let m = /^io\.k8s\.api\.([a-z0-9]+)\.(v[a-z0-9]+)$/.exec(pkg);
  if (m) return { file: `${m[1]}_${m[2]}`, name };
  m = /^io\.k8s\.(?:apimachinery|apiextensions-apiserver|kube-aggregator)\.pkg\.apis\.([a-z0-9]+)\.(v[a-z0-9]+)$/.exec(pkg);
  if (m) return { file: `${m[1]}_${m[2]}`, name };
  // resource.Quantity, intstr.IntOrString, runtime.RawExtension, version.Info: one small file.
  if (pkg.startsWith('io.k8s.apimachinery.pkg.')) return { file: 'apimachinery', name };
  throw new Error(`no file for definition ${definition}`);
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

class FileBuilder {
  readonly lines: string[] = [];
  /** imported definition -> local name */
  readonly imports = new Map<string, string>();
  readonly localNames: Set<string>;
  readonly file: string;
  constructor(file: string, localNames: Iterable<string>) {
    this.file = file;
    this.localNames = new Set(localNames);
  }

  refName(definition: string): string {
    const loc = definitionLocation(definition);
    if (loc.file === this.file) return loc.name;
    const existing = this.imports.get(definition);
    if (existing) return existing;
    const taken = new Set([...this.localNames, ...this.imports.values()]);
    let local = loc.name;
    if (taken.has(local)) local = `${loc.file.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())}${loc.name}`;
    this.imports.set(definition, local);
    return local;
  }

  typeOf(s: Schema, indent: string): string {
    if (s.$ref) return this.refName(s.$ref.replace('#/definitions/', ''));
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const item = s.items ? this.typeOf(s.items, indent) : 'unknown';
        return /[|&\s]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
      }
      case 'object':
      case undefined:
        if (s.properties) return this.objectLiteral(s, indent);
        if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          return `Record<string, ${this.typeOf(s.additionalProperties, indent)}>`;
        }
        return s.type === 'object' ? 'Record<string, unknown>' : 'unknown';
      default:
        throw new Error(`unknown schema type ${s.type}`);
    }
  }

  members(s: Schema, indent: string): string[] {
    const required = new Set(s.required ?? []);
    const out: string[] = [];
    for (const [field, prop] of Object.entries(s.properties ?? {})) {
      const key = IDENT.test(field) ? field : JSON.stringify(field);
      out.push(`${indent}${key}${required.has(field) ? '' : '?'}: ${this.typeOf(prop, indent + '  ')};`);
    }
    return out;
  }

  objectLiteral(s: Schema, indent: string): string {
    return `{\n${this.members(s, indent + '  ').join('\n')}\n${indent}}`;
  }
}

function gvkComment(s: Schema): string {
  const gvks = s['x-kubernetes-group-version-kind'] ?? [];
  if (gvks.length !== 1) return '';
  const { group, version, kind } = gvks[0];
  return ` (${group === '' ? version : `${group}/${version}`} ${kind})`;
}

function generateFile(file: string, defs: [string, Schema][]): string {
  const b = new FileBuilder(file, defs.map(([d]) => definitionLocation(d).name));
  const body: string[] = [];
  for (const [definition, schema] of defs) {
    const { name } = definitionLocation(definition);
    body.push(`/** ${definition}${gvkComment(schema)} */`);
    const special = SPECIAL[definition];
    if (special !== undefined) body.push(`export type ${name} = ${special};`);
    else if (schema.properties) body.push(`export interface ${name} {`, ...b.members(schema, '  '), '}');
    else body.push(`export type ${name} = ${b.typeOf(schema, '')};`);
    body.push('');
  }
  const byFile = new Map<string, string[]>();
  for (const [definition, local] of b.imports) {
    const loc = definitionLocation(definition);
    const spec = loc.name === local ? local : `${loc.name} as ${local}`;
    byFile.set(loc.file, [...(byFile.get(loc.file) ?? []), spec]);
  }
  const importLines = [...byFile.keys()].sort().map((f) => {
    const names = byFile.get(f)!.sort();
    return `import type { ${names.join(', ')} } from './${f}.ts';`;
  });
  const header = [
    '// generated by scripts/gen_types.ts; do not edit.',
    `// TypeScript shapes of the ${file} definitions of the vendored Kubernetes v1.32 OpenAPI document`,
    '// (src/api/openapi/); required fields are non-optional, everything else is optional.',
  ];
  return [...header, ...(importLines.length ? ['', ...importLines] : []), '', ...body].join('\n').replace(/\n+$/, '\n');
}

/** Every generated file (name -> text) for the definitions of an OpenAPI v2 document. */
export function generateTypes(spec: { definitions: Record<string, unknown> }): Map<string, string> {
  const files = new Map<string, [string, Schema][]>();
  for (const [definition, schema] of Object.entries(spec.definitions).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { file } = definitionLocation(definition);
    files.set(file, [...(files.get(file) ?? []), [definition, schema as Schema]]);
  }
  const out = new Map<string, string>();
  for (const [file, defs] of files) out.set(`${file}.ts`, generateFile(file, defs));
  return out;
}

function main(): void {
  const files = generateTypes(JSON.parse(readFileSync(specFile, 'utf8')) as { definitions: Record<string, unknown> });
  mkdirSync(outDir, { recursive: true });
  for (const old of readdirSync(outDir)) if (old.endsWith('.ts') && !old.endsWith('_test.ts')) rmSync(join(outDir, old));
  for (const [name, text] of files) writeFileSync(join(outDir, name), text);
  console.log(`wrote ${files.size} files to ${outDir}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
