// Maintenance script (not imported by tkube): derives zero_fields.generated.ts, the fields Go's
// empty struct of each kind serializes (value structs, non-omitempty fields), from the Go API types.
// Usage: node --import tsx scripts/gen_zero_fields.ts DIR... where each DIR holds Go sources
// of k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver or k8s.io/kube-aggregator at
// v0.32 (e.g. `git archive v0.32.9 | tar -x -C DIR`).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openAPIDefinitions } from '../src/api/unknown_fields.ts';

interface GoField {
  readonly json: string;
  readonly omitempty: boolean;
  readonly type: string;
  readonly inline: boolean;
}

interface GoPackage {
  readonly path: string;
  readonly structs: Map<string, GoField[]>;
  readonly named: Map<string, string>;
  readonly imports: Map<string, string>;
}

const MODULE_PREFIXES: readonly [string, string][] = [
  ['k8s.io/api/', 'io.k8s.api.'],
  ['k8s.io/apimachinery/', 'io.k8s.apimachinery.'],
  ['k8s.io/apiextensions-apiserver/', 'io.k8s.apiextensions-apiserver.'],
  ['k8s.io/kube-aggregator/', 'io.k8s.kube-aggregator.'],
];

// Types whose JSON form of the zero value is fixed by their own marshalers.
const SPECIAL_ZERO: Readonly<Record<string, unknown>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': null,
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': null,
  'io.k8s.apimachinery.pkg.apis.meta.v1.Duration': '0s',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': null,
  'io.k8s.apimachinery.pkg.api.resource.Quantity': '0',
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': 0,
  'io.k8s.apimachinery.pkg.runtime.RawExtension': null,
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': null,
};

const BASIC: Readonly<Record<string, unknown>> = {
  string: '', bool: false, byte: 0, rune: 0,
  int: 0, int8: 0, int16: 0, int32: 0, int64: 0, uint: 0, uint8: 0, uint16: 0, uint32: 0, uint64: 0,
  float32: 0, float64: 0,
};

function goFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) goFiles(p, out);
    else if (name.endsWith('.go') && !name.endsWith('_test.go') && !name.startsWith('zz_generated') && !name.endsWith('.pb.go')) out.push(p);
  }
  return out;
}

function moduleOf(dir: string): string {
  if (readdirSync(dir).includes('core') && readdirSync(dir).includes('apps')) return 'k8s.io/api';
  if (readdirSync(join(dir, 'pkg')).includes('apis') && statSync(join(dir, 'pkg', 'apis')).isDirectory()) {
    const apis = readdirSync(join(dir, 'pkg', 'apis'));
    if (apis.includes('apiextensions')) return 'k8s.io/apiextensions-apiserver';
    if (apis.includes('apiregistration')) return 'k8s.io/kube-aggregator';
  }
  return 'k8s.io/apimachinery';
}

function parseFile(pkg: GoPackage, text: string): void {
  const importBlock = /^import \(([\s\S]*?)^\)/m.exec(text)?.[1] ?? '';
  const singles = [...text.matchAll(/^import\s+(\w+\s+)?"([^"]+)"/gm)].map((m) => `${m[1] ?? ''}"${m[2]}"`).join('\n');
  for (const line of (importBlock + '\n' + singles).split('\n')) {
    const m = /^\s*(\w+)?\s*"([^"]+)"/.exec(line);
    if (!m) continue;
    const path = m[2]!;
    pkg.imports.set(m[1] ?? path.slice(path.lastIndexOf('/') + 1), path);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = /^type (\w+) struct \{\s*$/.exec(lines[i]!);
    if (start) {
      const fields: GoField[] = [];
      for (i++; i < lines.length && lines[i] !== '}'; i++) {
        const line = lines[i]!.replace(/\/\/.*$/, '');
        const tag = /`([^`]*)`/.exec(line)?.[1] ?? '';
        const json = /json:"([^"]*)"/.exec(tag)?.[1];
        const decl = line.replace(/`[^`]*`/, '').trim();
        if (decl === '') continue;
        const parts = decl.split(/\s+/);
        if (parts.length === 1) {
          // An embedded struct: inline unless a json name is given.
          const name = json?.split(',')[0] ?? '';
          fields.push({ json: name, omitempty: json?.includes('omitempty') ?? false, type: parts[0]!, inline: name === '' });
          continue;
        }
        if (json === undefined || json === '-' || !/^[A-Z]/.test(parts[0]!)) continue;
        const [name, ...opts] = json.split(',');
        fields.push({ json: name || parts[0]!, omitempty: opts.includes('omitempty'), type: parts.slice(1).join(' '), inline: opts.includes('inline') && !name });
      }
      pkg.structs.set(start[1]!, fields);
      continue;
    }
    if (/^type \w+ struct\s*\{\s*\}/.test(lines[i]!)) {
      pkg.structs.set(/^type (\w+)/.exec(lines[i]!)![1]!, []);
      continue;
    }
    const named = /^type (\w+) (?:= )?([^{]+)$/.exec(lines[i]!);
    if (named && !named[2]!.startsWith('interface')) pkg.named.set(named[1]!, named[2]!.trim());
  }
}

function definitionPrefix(path: string): string | undefined {
  for (const [go, def] of MODULE_PREFIXES) if (path.startsWith(go)) return def + path.slice(go.length).replaceAll('/', '.');
  return undefined;
}

function main(): void {
  const packages = new Map<string, GoPackage>();
  for (const dir of process.argv.slice(2)) {
    const module = moduleOf(dir);
    for (const file of goFiles(dir)) {
      const rel = relative(dir, file);
      const path = `${module}/${rel.slice(0, rel.lastIndexOf('/'))}`;
      let pkg = packages.get(path);
      if (!pkg) packages.set(path, (pkg = { path, structs: new Map(), named: new Map(), imports: new Map() }));
      parseFile(pkg, readFileSync(file, 'utf8'));
    }
  }
  const defs = openAPIDefinitions();
  const table: Record<string, Record<string, unknown>> = {};
  const unknownTypes = new Set<string>();

  // The zero JSON of a Go type, or undefined when the field is left out.
  const zeroOf = (pkg: GoPackage, type: string, omitempty: boolean): unknown => {
    if (type.startsWith('*') || type.startsWith('[]') || type.startsWith('map[')) return omitempty ? undefined : null;
    if (type in BASIC) return omitempty ? undefined : BASIC[type];
    let target = pkg;
    let name = type;
    const dot = type.indexOf('.');
    if (dot > 0) {
      const path = pkg.imports.get(type.slice(0, dot));
      name = type.slice(dot + 1);
      if (path === 'k8s.io/apimachinery/pkg/types') return omitempty ? undefined : '';
      const other = path ? packages.get(path) : undefined;
      const prefix = path ? definitionPrefix(path) : undefined;
      if (prefix && `${prefix}.${name}` in SPECIAL_ZERO) return SPECIAL_ZERO[`${prefix}.${name}`];
      if (!other) {
        unknownTypes.add(type);
        return undefined;
      }
      target = other;
    } else {
      const prefix = definitionPrefix(pkg.path);
      if (prefix && `${prefix}.${name}` in SPECIAL_ZERO) return SPECIAL_ZERO[`${prefix}.${name}`];
    }
    if (target.structs.has(name)) return `#${definitionPrefix(target.path)}.${name}`;
    const underlying = target.named.get(name);
    if (underlying !== undefined) return zeroOf(target, underlying, omitempty);
    unknownTypes.add(type);
    return undefined;
  };

  const fieldsOf = (pkg: GoPackage, struct: string, out: Record<string, unknown>): void => {
    for (const f of pkg.structs.get(struct) ?? []) {
      if (f.inline) {
        const t = f.type.replace(/^\*/, '');
        const dot = t.indexOf('.');
        const other = dot > 0 ? packages.get(pkg.imports.get(t.slice(0, dot)) ?? '') : pkg;
        if (other) fieldsOf(other, dot > 0 ? t.slice(dot + 1) : t, out);
        continue;
      }
      const zero = zeroOf(pkg, f.type, f.omitempty);
      if (zero !== undefined) out[f.json] = zero;
    }
  };

  const byDefinition = new Map<string, [GoPackage, string]>();
  for (const pkg of packages.values()) {
    const prefix = definitionPrefix(pkg.path);
    if (!prefix) continue;
    for (const name of pkg.structs.keys()) byDefinition.set(`${prefix}.${name}`, [pkg, name]);
  }
  // Only what an empty kind reaches through value-struct fields is ever needed.
  const queue = Object.entries(defs).filter(([, d]) => (d as Record<string, unknown>)['x-kubernetes-group-version-kind']).map(([n]) => n);
  const seen = new Set<string>();
  while (queue.length > 0) {
    const def = queue.pop()!;
    if (seen.has(def)) continue;
    seen.add(def);
    const found = byDefinition.get(def);
    if (!found) continue;
    const out: Record<string, unknown> = {};
    fieldsOf(found[0], found[1], out);
    if (Object.keys(out).length === 0) continue;
    table[def] = out;
    for (const z of Object.values(out)) if (typeof z === 'string' && z.startsWith('#')) queue.push(z.slice(1));
  }
  const names = Object.keys(table).sort();
  const body = names.map((n) => `  ${JSON.stringify(n)}: ${JSON.stringify(table[n])},`).join('\n');
  const header = [
    '// Generated by scripts/gen_zero_fields.ts from the Go API types of Kubernetes v1.32 (Apache-2.0):',
    '// per definition, the fields its empty Go struct serializes. "#name" is a nested value struct. Do not edit.',
    '',
    '/** Fields of the empty Go struct of each definition, as JSON ("#definition" for a nested struct). */',
    'export const ZERO_FIELDS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {',
  ].join('\n');
  writeFileSync(new URL('./zero_fields.generated.ts', import.meta.url), `${header}\n${body}\n};\n`);
  if (unknownTypes.size > 0) console.error(`unresolved types: ${[...unknownTypes].sort().join(' ')}`);
  console.error(`${names.length} definitions`);
}

main();
