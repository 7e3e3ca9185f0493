// Field paths and field sets of server-side apply (upstream's structured-merge-diff fieldpath):
// path elements (field name, map-list key, set value, index), their order and printed form, and
// trees of owned fields with the set algebra the merge and ownership rules are written in.

/** One step into a value: a field of a map, an item of a keyed list, a value of a set, an index. */
export type PathElement =
  | { readonly kind: 'f'; readonly name: string; readonly id: string }
  | { readonly kind: 'k'; readonly fields: readonly (readonly [string, unknown])[]; readonly id: string }
  | { readonly kind: 'v'; readonly value: unknown; readonly id: string }
  | { readonly kind: 'i'; readonly index: number; readonly id: string };

/** A path from the root of an object. */
export type Path = readonly PathElement[];

const KIND_ORDER = { f: 0, k: 1, v: 2, i: 3 } as const;

// Field names repeat endlessly (every object has "metadata", "spec", "name"...); sharing their path
// elements keeps the walkers from allocating one per visit.
const fieldCache = new Map<string, PathElement>();

/** The path element of a map field. */
export function fieldElement(name: string): PathElement {
  let pe = fieldCache.get(name);
  if (!pe) {
    pe = { kind: 'f', name, id: `f:${name}` };
    if (fieldCache.size > 50_000) fieldCache.clear();
    fieldCache.set(name, pe);
  }
  return pe;
}

/** The path element of a keyed list item; `fields` are sorted by name here, as upstream stores them. */
export function keyElement(fields: readonly (readonly [string, unknown])[]): PathElement {
  const sorted = fields.length < 2 ? fields : [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  let id = 'k:{';
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0) id += ',';
    id += goJSON(sorted[i]![0]) + ':' + goJSON(sorted[i]![1]);
  }
  return { kind: 'k', fields: sorted, id: id + '}' };
}

/** The path element of a set item (a scalar). */
export function valueElement(value: unknown): PathElement {
  return { kind: 'v', value, id: `v:${goJSON(value)}` };
}

/** The path element of a list index (lists that are neither sets nor keyed). */
export function indexElement(index: number): PathElement {
  return { kind: 'i', index, id: `i:${index}` };
}

/** Go's strings.Compare: byte order of the UTF-8 encodings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (astral characters) below U+E000..U+FFFF; UTF-8 puts them above.
    if (x >= 0xd800 && x <= 0xdfff) x += 0x2000;
    else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x2000;
    else if (y >= 0xe000) y -= 0x800;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
}

/** Upstream's value.Compare: numbers < strings < booleans < lists < maps < null, then by content. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1: return compareStrings(a as string, b as string);
    case 2: return a === b ? 0 : a === false ? -1 : 1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < la.length && i < lb.length; i++) {
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
      return la.length < lb.length ? -1 : la.length > lb.length ? 1 : 0;
    }
    case 4: {
      const ma = a as Record<string, unknown>;
      const mb = b as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort(compareStrings);
      for (const k of keys) {
        if (!(k in ma)) return 1;
        if (!(k in mb)) return -1;
        const c = compareValues(ma[k], mb[k]);
        if (c !== 0) return c;
      }
      return 0;
    }
    default: return 0;
  }
}

/** Upstream's PathElement.Compare: field names < keys < values < indexes, then by content. */
export function compareElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] < KIND_ORDER[b.kind] ? -1 : 1;
  switch (a.kind) {
    case 'f': return compareStrings(a.name, (b as typeof a).name);
    case 'k': {
      const fa = a.fields;
      const fb = (b as typeof a).fields;
      for (let i = 0; i < fa.length && i < fb.length; i++) {
        const c = compareStrings(fa[i]![0], fb[i]![0]) || compareValues(fa[i]![1], fb[i]![1]);
        if (c !== 0) return c;
      }
      return fa.length < fb.length ? -1 : fa.length > fb.length ? 1 : 0;
    }
    case 'v': return compareValues(a.value, (b as typeof a).value);
    case 'i': return a.index < (b as typeof a).index ? -1 : a.index > (b as typeof a).index ? 1 : 0;
  }
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** JSON as Go's encoder writes it (HTML-sensitive characters escaped), for keys and values in ids. */
export function goJSON(v: unknown): string {
  // Fast paths for the usual key values (names, ports): nothing to escape.
  if (typeof v === 'string' && !NEEDS_ESCAPE.test(v)) return `"${v}"`;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  const s = JSON.stringify(v) ?? 'null';
  return /[<>&\u2028\u2029]/.test(s) ? s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
}

/** Go's %v of a float64 ("1e+21", "0.5", "3"). */
function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [m, e] = n.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (c < 0x10000) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

/** Upstream's value.ToString, used in printed paths. */
export function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(valueString).join(',') + ']';
  return Object.keys(v as object).sort(compareStrings).map((k) => `${k}=${valueString((v as Record<string, unknown>)[k])}`).join('');
}

/** A path element as upstream prints it: `.name`, `[name="nginx"]`, `[="x"]`, `[0]`. */
export function elementString(pe: PathElement): string {
  switch (pe.kind) {
    case 'f': return '.' + pe.name;
    case 'k': return '[' + pe.fields.map(([k, v]) => `${k}=${valueString(v)}`).join(',') + ']';
    case 'v': return `[=${valueString(pe.value)}]`;
    case 'i': return `[${pe.index}]`;
  }
}

/** A path as upstream prints it in conflicts: `.spec.template.spec.containers[name="nginx"].image`. */
export function pathString(path: Path): string {
  let s = '';
  for (const pe of path) s += elementString(pe);
  return s;
}

interface SetNode {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

function sortedValues<T>(m: ReadonlyMap<string, T> | undefined, pe: (t: T) => PathElement): T[] {
  if (!m || m.size === 0) return [];
  const out = [...m.values()];
  if (out.length > 1) out.sort((a, b) => compareElements(pe(a), pe(b)));
  return out;
}

const samePE = (pe: PathElement): PathElement => pe;
const nodePE = (n: SetNode): PathElement => n.pe;

/**
 * A set of paths as a tree: `members` end a path here, `children` continue it. Results of the
 * algebra may share subtrees with their inputs, so only a freshly built set is ever inserted into.
 */
export class FieldSet {
  members: Map<string, PathElement> | undefined;
  children: Map<string, SetNode> | undefined;

  /** Adds a path (the empty path is ignored, as upstream). */
  insert(path: Path): void {
    if (path.length === 0) return;
    let s: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) s = s.descend(path[i]!);
    s.addMember(path[path.length - 1]!);
  }

  addMember(pe: PathElement): void {
    (this.members ??= new Map()).set(pe.id, pe);
  }

  /** The child set under `pe`, created when missing. */
  descend(pe: PathElement): FieldSet {
    const children = (this.children ??= new Map());
    let node = children.get(pe.id);
    if (!node) {
      node = { pe, set: new FieldSet() };
      children.set(pe.id, node);
    }
    return node.set;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      s = s.children?.get(path[i]!.id)?.set;
      if (!s) return false;
    }
    return s.members?.has(path[path.length - 1]!.id) ?? false;
  }

  hasMember(pe: PathElement): boolean {
    return this.members?.has(pe.id) ?? false;
  }

  /** The subset under `pe` (empty when none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children?.get(pe.id)?.set ?? EMPTY;
  }

  empty(): boolean {
    if (this.members && this.members.size > 0) return false;
    if (this.children) for (const n of this.children.values()) if (!n.set.empty()) return false;
    return true;
  }

  /** True when the set holds nothing at all (not even empty child nodes): the algebra's shortcut. */
  bare(): boolean {
    return (this.members === undefined || this.members.size === 0) && (this.children === undefined || this.children.size === 0);
  }

  union(other: FieldSet): FieldSet {
    // Results may share inputs (see the class comment): a union with nothing is the other set.
    if (other.bare()) return this;
    if (this.bare()) return other;
    const out = new FieldSet();
    if (this.members || other.members) {
      out.members = new Map(this.members);
      if (other.members) for (const [id, pe] of other.members) out.members.set(id, pe);
    }
    if (this.children || other.children) {
      out.children = new Map(this.children);
      if (other.children) {
        for (const [id, node] of other.children) {
          const mine = out.children.get(id);
          out.children.set(id, mine ? { pe: mine.pe, set: mine.set.union(node.set) } : node);
        }
      }
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    if (this.bare() || other.bare()) return out;
    if (this.members && other.members) {
      for (const [id, pe] of this.members) if (other.members.has(id)) out.addMember(pe);
    }
    if (this.children && other.children) {
      for (const [id, node] of this.children) {
        const theirs = other.children.get(id);
        if (!theirs) continue;
        const res = node.set.intersection(theirs.set);
        if (!res.empty()) (out.children ??= new Map()).set(id, { pe: node.pe, set: res });
      }
    }
    return out;
  }

  /** Removes `other`'s paths; a member of `other` does not remove the subtree under it. */
  difference(other: FieldSet): FieldSet {
    if (other.bare() || this.bare()) return this;
    const out = new FieldSet();
    if (this.members) {
      for (const [id, pe] of this.members) if (!other.members?.has(id)) out.addMember(pe);
    }
    if (this.children) {
      for (const [id, node] of this.children) {
        const theirs = other.children?.get(id);
        if (!theirs) {
          (out.children ??= new Map()).set(id, node);
          continue;
        }
        const diff = node.set.difference(theirs.set);
        if (!diff.empty()) (out.children ??= new Map()).set(id, { pe: node.pe, set: diff });
      }
    }
    return out;
  }

  /** Removes `other`'s paths and everything under `other`'s members. */
  recursiveDifference(other: FieldSet): FieldSet {
    if (other.bare() || this.bare()) return this;
    const out = new FieldSet();
    if (this.members) {
      for (const [id, pe] of this.members) if (!other.members?.has(id)) out.addMember(pe);
    }
    if (this.children) {
      for (const [id, node] of this.children) {
        if (other.members?.has(id)) continue;
        const theirs = other.children?.get(id);
        if (!theirs) {
          (out.children ??= new Map()).set(id, node);
          continue;
        }
        const diff = node.set.recursiveDifference(theirs.set);
        if (!diff.empty()) (out.children ??= new Map()).set(id, { pe: node.pe, set: diff });
      }
    }
    return out;
  }

  /** Members in upstream's order. */
  sortedMembers(): PathElement[] {
    return sortedValues(this.members, samePE);
  }

  /** Children in upstream's order. */
  sortedChildren(): { readonly pe: PathElement; readonly set: FieldSet }[] {
    return sortedValues(this.children, nodePE);
  }

  /** Every path in upstream's order: a node's members first, then its children's paths. */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]): void => {
      for (const pe of s.sortedMembers()) out.push([...prefix, pe]);
      for (const n of s.sortedChildren()) {
        prefix.push(n.pe);
        walk(n.set, prefix);
        prefix.pop();
      }
    };
    walk(this, []);
    return out;
  }

  equals(other: FieldSet): boolean {
    const m1 = this.members?.size ?? 0;
    if (m1 !== (other.members?.size ?? 0)) return false;
    if (m1 > 0) for (const id of this.members!.keys()) if (!other.members!.has(id)) return false;
    const c1 = this.children?.size ?? 0;
    if (c1 !== (other.children?.size ?? 0)) return false;
    if (c1 > 0) {
      for (const [id, node] of this.children!) {
        const theirs = other.children!.get(id);
        if (!theirs || !node.set.equals(theirs.set)) return false;
      }
    }
    return true;
  }

  /** One path per line, as upstream's Set.String(). */
  toString(): string {
    return this.paths().map(pathString).join('\n');
  }

  /** A set holding the given paths. */
  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }
}

const EMPTY = new FieldSet();

/** A path of field names, e.g. fieldPath('metadata', 'labels'). */
export function fieldPath(...names: string[]): Path {
  return names.map(fieldElement);
}
