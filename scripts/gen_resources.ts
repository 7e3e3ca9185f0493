// Generates src/api/resource_table.generated.ts: every resource and subresource of every group-version
// in the vendored OpenAPI document, with scope, verbs and kinds read from its paths. What the spec does
// not say (short names, categories, which versions are served) lives by hand in src/api/resource_table.ts.
// Usage: node --import tsx scripts/gen_resources.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const specFile = join(root, 'src/api/openapi/kubernetes-v1.32-openapi-v2.json');
const outFile = join(root, 'src/api/resource_table.generated.ts');

interface GVK {
  group: string;
  version: string;
  kind: string;
}
interface Operation {
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: GVK;
}
export interface Spec {
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, { 'x-kubernetes-group-version-kind'?: GVK[] }>;
}

/** What one resource or subresource path family tells us. */
interface Collected {
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespaced: boolean;
  verbs: Set<string>;
  gvk?: GVK;
}

/** x-kubernetes-action -> discovery verb. `connect` depends on the HTTP method instead. */
const ACTION_VERBS: Record<string, string> = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  watchlist: 'watch',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
  deletecollection: 'deletecollection',
};
/** Upstream advertises connect subresources by these methods only (HEAD and OPTIONS add no verb). */
const CONNECT_VERBS: Record<string, string> = { get: 'get', post: 'create', put: 'update', patch: 'patch', delete: 'delete' };

/** Splits "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale" into its parts. */
export function parsePath(path: string):
  | { group: string; version: string; namespaced: boolean; resource: string; subresource: string }
  | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  const segs = path.split('/').filter((s) => s !== '');
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'watch') rest = rest.slice(1);
  let namespaced = false;
  if (rest[0] === 'namespaces' && rest[1] === '{namespace}' && rest.length > 2) {
    namespaced = true;
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (resource === undefined || resource.startsWith('{')) return undefined;
  if (name !== undefined && name !== '{name}') return undefined;
  return { group, version, namespaced, resource, subresource: subresource ?? '' };
}

function collect(spec: Spec): Map<string, Collected> {
  const out = new Map<string, Collected>();
  for (const [path, item] of Object.entries(spec.paths)) {
    const p = parsePath(path);
    if (!p) continue;
    const key = `${p.group}/${p.version}/${p.resource}/${p.subresource}`;
    let c = out.get(key);
    if (!c) {
      c = { ...p, namespaced: false, verbs: new Set() };
      out.set(key, c);
    }
    // A namespaced resource also has a cluster-wide list path; any namespaced path decides.
    if (p.namespaced) c.namespaced = true;
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const action = op['x-kubernetes-action'] ?? '';
      const verb = action === 'connect' ? CONNECT_VERBS[method] : ACTION_VERBS[action];
      if (verb) c.verbs.add(verb);
      c.gvk ??= op['x-kubernetes-group-version-kind'];
    }
  }
  return out;
}

/** The text of resource_table.generated.ts for an OpenAPI v2 document. */
export function generateResourceTable(spec: Spec): string {
  const definitionOf = new Map<string, string>();
  for (const [name, def] of Object.entries(spec.definitions)) {
    for (const g of def['x-kubernetes-group-version-kind'] ?? []) {
      // DeleteOptions, WatchEvent and friends carry every group's GVK; real kinds carry one.
      if ((def['x-kubernetes-group-version-kind'] ?? []).length === 1) definitionOf.set(`${g.group}/${g.version}/${g.kind}`, name);
    }
  }
  const collected = collect(spec);
  const lines: string[] = [];
  const sorted = [...collected.values()].filter((c) => c.subresource === '').sort((a, b) =>
    `${a.group}/${a.version}/${a.resource}` < `${b.group}/${b.version}/${b.resource}` ? -1 : 1,
  );
  for (const c of sorted) {
    if (!c.gvk) throw new Error(`no kind for ${c.group}/${c.version}/${c.resource}`);
    const kind = c.gvk.kind;
    const definition = definitionOf.get(`${c.group}/${c.version}/${kind}`) ?? '';
    const listKind = definitionOf.has(`${c.group}/${c.version}/${kind}List`) ? `${kind}List` : '';
    const subresources = [...collected.values()]
      .filter((s) => s.group === c.group && s.version === c.version && s.resource === c.resource && s.subresource !== '')
      .sort((a, b) => (a.subresource < b.subresource ? -1 : 1))
      .map((s) => {
        if (!s.gvk) throw new Error(`no kind for ${s.group}/${s.version}/${s.resource}/${s.subresource}`);
        const cross = s.gvk.group !== c.group || s.gvk.version !== c.version;
        return {
          name: s.subresource,
          kind: s.gvk.kind,
          ...(cross ? { group: s.gvk.group, version: s.gvk.version } : {}),
          verbs: [...s.verbs].sort(),
        };
      });
    const entry = {
      group: c.group,
      version: c.version,
      resource: c.resource,
      kind,
      listKind,
      namespaced: c.namespaced,
      verbs: [...c.verbs].sort(),
      subresources,
      definition,
    };
    lines.push(`  ${JSON.stringify(entry)},`);
  }
  return `// generated by scripts/gen_resources.ts; do not edit.
// Every resource of every group-version in the vendored OpenAPI document, as its paths describe it
// (scope from namespaced paths, verbs from x-kubernetes-action, kinds from x-kubernetes-group-version-kind).

/** A subresource as the spec's paths describe it; group/version only when they differ from the parent. */
export interface SpecSubresource {
  readonly name: string;
  readonly kind: string;
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

/** A resource as the spec's paths describe it. listKind is "" when the spec has no list type. */
export interface SpecResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly subresources: readonly SpecSubresource[];
  readonly definition: string;
}

export const SPEC_RESOURCES: readonly SpecResource[] = [
${lines.join('\n')}
];
`;
}

function main(): void {
  const text = generateResourceTable(JSON.parse(readFileSync(specFile, 'utf8')) as Spec);
  writeFileSync(outFile, text);
  console.log(`wrote ${outFile}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
