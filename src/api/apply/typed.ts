// Schema-aware walks over JSON values for server-side apply (upstream's structured-merge-diff
// typed package): validation, the set of fields a value sets and comparison of two values, plus
// the helpers merge.ts shares. Absent is `undefined`, never null.
import { FieldSet, fieldElement, indexElement, keyElement, pathString, valueElement, type PathElement } from './fieldpath.ts';
import { DEDUCED, type Atom, type ListType, type MapType } from './schema.ts';

/** One problem found while walking a value, with upstream's path prefix and message. */
export interface WalkError {
  readonly path: string;
  readonly message: string;
}

/** Upstream's ValidationErrors.Error(): one error inline, several one per line. */
export function walkErrorsString(errs: readonly WalkError[]): string {
  const one = (e: WalkError): string => (e.path ? `${e.path}: ${e.message}` : e.message);
  if (errs.length === 1) return one(errs[0]!);
  return ['errors:', ...errs.map((e) => '  ' + one(e))].join('\n');
}

export type JsonMap = Record<string, unknown>;

export function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalar(v: unknown): boolean {
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean';
}

export const SCALAR = 1;
export const LIST = 2;
export const MAP = 4;

function atomMask(a: Atom): number {
  return (a.scalar ? SCALAR : 0) | (a.list ? LIST : 0) | (a.map ? MAP : 0);
}

/** Which parts of `a` apply to `v` (upstream's deduceAtom): one kind when `v` matches it, else all. */
export function deduce(a: Atom, v: unknown): number {
  if (v !== undefined && v !== null) {
    if (isScalar(v)) { if (a.scalar) return SCALAR; }
    else if (Array.isArray(v)) { if (a.list) return LIST; }
    else if (a.map) return MAP;
  }
  return atomMask(a);
}

/** The kind handled for a deduced mask, in upstream's order: map, scalar, list. */
export function handled(mask: number): number {
  return mask & MAP ? MAP : mask & SCALAR ? SCALAR : mask & LIST ? LIST : 0;
}

export function fieldAtom(t: MapType, key: string): Atom | undefined {
  const f = t.fields.get(key);
  if (f) return f.atom();
  return t.elem?.();
}

function goTypeName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

export function scalarError(kind: Atom['scalar'], v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  switch (kind) {
    case 'numeric': return typeof v === 'number' ? undefined : `expected numeric (int or float), got ${goTypeName(v)}`;
    case 'string': return typeof v === 'string' ? undefined : `expected string, got ${JSON.stringify(v)}`;
    case 'boolean': return typeof v === 'boolean' ? undefined : `expected boolean, got ${JSON.stringify(v)}`;
    default: return isScalar(v) ? undefined : `expected any scalar, got ${JSON.stringify(v)}`;
  }
}

/** The path element of a list item, or an error message (upstream's listItemToPathElement). */
export function listItemElement(t: ListType, item: unknown): PathElement | string {
  if (t.keys.length > 0) {
    if (item === null || item === undefined) return 'associative list with keys may not have a null element';
    if (!isMap(item)) return 'associative list with keys may not have non-map elements';
    const fields: (readonly [string, unknown])[] = [];
    for (const k of t.keys) {
      if (k in item) fields.push([k, item[k]]);
      else {
        const def = t.elem().map?.fields.get(k)?.default;
        if (def === undefined) return `associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`;
        fields.push([k, def]);
      }
    }
    return keyElement(fields);
  }
  if (isMap(item)) return "associative list without keys has an element that's a map type";
  if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
  if (item === null || item === undefined) return "associative list without keys has an element that's an explicit null";
  return valueElement(item);
}

/** Upstream's value.Equals: deep equality where numbers compare by value. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!(k in b)) return false;
    if (!valuesEqual((a as JsonMap)[k], (b as JsonMap)[k])) return false;
  }
  return true;
}

// ---------------------------------------------------------------- validation

/** Validates a value against the schema (upstream's AsTyped): wrong kinds, undeclared fields, bad or duplicate keys. */
export function validate(atom: Atom, value: unknown, allowDuplicates: boolean): WalkError[] {
  const errs: WalkError[] = [];
  const path: PathElement[] = [];
  const err = (message: string): void => void errs.push({ path: pathString(path), message });
  const walk = (a: Atom, v: unknown): void => {
    const kind = handled(deduce(a, v));
    if (kind === MAP) {
      if (v === undefined || v === null) return;
      if (!isMap(v)) return err(`expected map, got ${JSON.stringify(v)}`);
      const t = a.map!;
      for (const key of Object.keys(v)) {
        const pe = fieldElement(key);
        const f = fieldAtom(t, key);
        path.push(pe);
        if (!f) {
          err('field not declared in schema');
          path.pop();
          return;
        }
        walk(f, v[key]);
        path.pop();
      }
    } else if (kind === SCALAR) {
      const m = scalarError(a.scalar, v);
      if (m) err(m);
    } else if (kind === LIST) {
      if (v === undefined || v === null) return;
      if (!Array.isArray(v)) return err(`expected list, got ${JSON.stringify(v)}`);
      const t = a.list!;
      const elem = t.elem();
      const seen = t.atomic ? undefined : new Set<string>();
      for (let i = 0; i < v.length; i++) {
        let pe: PathElement;
        if (!seen) pe = indexElement(i);
        else {
          const r = listItemElement(t, v[i]);
          if (typeof r === 'string') return err(`element ${i}: ${r}`);
          pe = r;
          if (seen.has(pe.id) && !allowDuplicates) err(`duplicate entries for key ${elementText(pe)}`);
          seen.add(pe.id);
        }
        path.push(pe);
        walk(elem, v[i]);
        path.pop();
      }
    } else {
      err(`schema error: invalid atom: ${a.name ? 'named type: ' + a.name : 'inlined'}`);
    }
  };
  walk(atom, value);
  return errs;
}

export function elementText(pe: PathElement): string {
  return pathString([pe]);
}

// ---------------------------------------------------------------- field sets

/** The fields a value sets (upstream's ToFieldSet): leaves, list items, map entries, empty and null fields. */
export function toFieldSet(atom: Atom, value: unknown): FieldSet {
  const set = new FieldSet();
  const path: PathElement[] = [];
  const walk = (a: Atom, v: unknown): void => {
    const kind = handled(deduce(a, v));
    if (kind === SCALAR) {
      set.insert(path);
    } else if (kind === LIST) {
      const t = a.list!;
      if (t.atomic) return set.insert(path);
      if (!Array.isArray(v)) return;
      const elem = t.elem();
      const pes: (PathElement | undefined)[] = [];
      const seen = new Set<string>();
      const duplicates = new Set<string>();
      for (const item of v) {
        const r = listItemElement(t, item);
        const pe = typeof r === 'string' ? undefined : r;
        pes.push(pe);
        if (!pe) continue;
        if (seen.has(pe.id)) {
          // A duplicated item is owned as a whole: its fields cannot be told apart.
          if (!duplicates.has(pe.id)) {
            path.push(pe);
            set.insert(path);
            path.pop();
            duplicates.add(pe.id);
          }
        } else seen.add(pe.id);
      }
      for (let i = 0; i < v.length; i++) {
        const pe = pes[i];
        if (!pe || duplicates.has(pe.id)) continue;
        path.push(pe);
        walk(elem, v[i]);
        set.insert(path);
        path.pop();
      }
    } else if (kind === MAP) {
      const t = a.map!;
      if (t.atomic) return set.insert(path);
      if (!isMap(v)) return;
      for (const key of Object.keys(v)) {
        const val = v[key];
        const declared = t.fields.get(key);
        const f = declared ? declared.atom() : t.elem?.() ?? DEDUCED;
        path.push(fieldElement(key));
        walk(f, val);
        if (val === null || (isMap(val) && Object.keys(val).length === 0) || !declared) set.insert(path);
        path.pop();
      }
    }
  };
  walk(atom, value);
  return set;
}

/** Upstream's Set.EnsureNamedFieldsAreMembers: struct fields with children become members too. */
export function ensureNamedFieldsAreMembers(set: FieldSet, atom: Atom | undefined): FieldSet {
  const out = new FieldSet();
  if (set.members) out.members = new Map(set.members);
  if (set.children) {
    out.children = new Map();
    const m = atom?.map;
    for (const [id, node] of set.children) {
      let childAtom: Atom | undefined;
      if (node.pe.kind === 'f' && m) {
        const declared = m.fields.get(node.pe.name);
        if (declared) {
          out.addMember(node.pe);
          childAtom = declared.atom();
        } else childAtom = m.elem?.();
      } else if (node.pe.kind === 'k' && atom?.list) {
        childAtom = atom.list.elem();
      }
      out.children.set(id, { pe: node.pe, set: ensureNamedFieldsAreMembers(node.set, childAtom) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- comparison

/** How two values differ, as three sets of paths. */
export interface Comparison {
  removed: FieldSet;
  modified: FieldSet;
  added: FieldSet;
}

/** Compares `lhs` (old) with `rhs` (new) (upstream's TypedValue.Compare). */
export function compare(atom: Atom, lhs: unknown, rhs: unknown): { comparison: Comparison; errors: WalkError[] } {
  const w = new Comparer(true);
  w.node(atom, lhs, rhs);
  return { comparison: w.c, errors: w.errs };
}

/** compare() walking unchanged members too (tests check that skipping them changes nothing). */
export function compareExhaustive(atom: Atom, lhs: unknown, rhs: unknown): { comparison: Comparison; errors: WalkError[] } {
  const w = new Comparer(false);
  w.node(atom, lhs, rhs);
  return { comparison: w.c, errors: w.errs };
}

/**
 * The walk of compare(). Methods rather than closures: this runs on every write, and tsx names
 * each closure it creates (one defineProperty per closure per call).
 */
class Comparer {
  readonly c: Comparison = { removed: new FieldSet(), modified: new FieldSet(), added: new FieldSet() };
  readonly errs: WalkError[] = [];
  readonly path: PathElement[] = [];
  /** Skip members and items equal on both sides. */
  readonly skipEqual: boolean;

  constructor(skipEqual: boolean) {
    this.skipEqual = skipEqual;
  }

  err(message: string): void {
    this.errs.push({ path: pathString(this.path), message });
  }

  node(a: Atom, l: unknown, r: unknown): void {
    const ml = deduce(a, l);
    const mr = deduce(a, r);
    let inLeaf: boolean;
    if (r === undefined) inLeaf = this.handle(a, handled(ml), l, r, false);
    else if (l === undefined || ml === mr) inLeaf = this.handle(a, handled(mr), l, r, false);
    else {
      this.handle(a, handled(ml), l, r, false);
      inLeaf = this.handle(a, handled(mr), l, r, false);
    }
    if (!inLeaf) {
      if (l === undefined) this.c.added.insert(this.path);
      else if (r === undefined) this.c.removed.insert(this.path);
    }
  }

  /** Records a leaf difference once per node; returns the node's new "in leaf" state. */
  leaf(l: unknown, r: unknown, inLeaf: boolean): boolean {
    if (inLeaf) return true;
    if (l === undefined) this.c.added.insert(this.path);
    else if (r === undefined) this.c.removed.insert(this.path);
    else if (!valuesEqual(l, r)) this.c.modified.insert(this.path);
    return true;
  }

  handle(a: Atom, kind: number, l: unknown, r: unknown, inLeaf: boolean): boolean {
    if (kind === SCALAR) {
      const le = scalarError(a.scalar, l);
      const re = scalarError(a.scalar, r);
      if (le && re) {
        this.err(`lhs: ${le}`);
        this.err(`rhs: ${re}`);
        return inLeaf;
      }
      return this.leaf(l, r, inLeaf);
    }
    if (kind === LIST) {
      const ll = Array.isArray(l) ? l : undefined;
      const rl = Array.isArray(r) ? r : undefined;
      if (a.list!.atomic || ((!ll || ll.length === 0) && (!rl || rl.length === 0))) return this.leaf(l, r, inLeaf);
      this.listItems(a.list!, ll, rl);
      return inLeaf;
    }
    if (kind === MAP) {
      const lm = isMap(l) ? l : undefined;
      const rm = isMap(r) ? r : undefined;
      const lEmpty = !lm || isEmptyMap(lm);
      const rEmpty = !rm || isEmptyMap(rm);
      if (a.map!.atomic || (lEmpty && rEmpty)) return this.leaf(l, r, inLeaf);
      const t = a.map!;
      const path = this.path;
      if (lm) {
        for (const key in lm) {
          const lv = lm[key];
          const rv = rm?.[key];
          // An unchanged member adds nothing to the comparison (its walk could only find schema
          // errors, which objects past typed decoding do not have): one plain equality walk is
          // much cheaper than the typed one, and most of an updated object is unchanged.
          if (this.skipEqual && lv !== undefined && rv !== undefined && valuesEqual(lv, rv)) continue;
          path.push(fieldElement(key));
          this.node(fieldAtom(t, key) ?? DEDUCED, lv, rv);
          path.pop();
        }
      }
      if (rm) {
        for (const key in rm) {
          if (lm && key in lm) continue;
          path.push(fieldElement(key));
          this.node(fieldAtom(t, key) ?? DEDUCED, undefined, rm[key]);
          path.pop();
        }
      }
      return inLeaf;
    }
    this.err(`schema error: invalid atom: ${a.name ? 'named type: ' + a.name : 'inlined'}`);
    return inLeaf;
  }

  /** Indexes a list's items by path element into `into`; new elements (not in `other`) go to `all`. */
  index(t: ListType, list: unknown[] | undefined, into: Map<string, unknown[]>, all: PathElement[], other: Map<string, unknown[]> | undefined): void {
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const pe = listItemElement(t, list[i]);
      if (typeof pe === 'string') {
        this.err(`element ${i}: ${pe}`);
        continue;
      }
      const have = into.get(pe.id);
      if (have) have.push(list[i]);
      else {
        into.set(pe.id, [list[i]]);
        if (!other || !other.has(pe.id)) all.push(pe);
      }
    }
  }

  listItems(t: ListType, l: unknown[] | undefined, r: unknown[] | undefined): void {
    const elem = t.elem();
    const all: PathElement[] = [];
    const lValues = new Map<string, unknown[]>();
    const rValues = new Map<string, unknown[]>();
    this.index(t, l, lValues, all, undefined);
    this.index(t, r, rValues, all, lValues);
    const path = this.path;
    const c = this.c;
    for (const pe of all) {
      const ll = lValues.get(pe.id) ?? NONE;
      const rl = rValues.get(pe.id) ?? NONE;
      path.push(pe);
      if (ll.length <= 1 && rl.length <= 1) {
        // An unchanged item adds nothing (see the map case).
        if (!this.skipEqual || ll.length === 0 || rl.length === 0 || !valuesEqual(ll[0], rl[0])) this.node(elem, ll[0], rl[0]);
      } else if (ll.length >= 2 && rl.length >= 2) {
        if (!valuesEqual(ll, rl)) c.modified.insert(path);
      } else if (ll.length >= 2) {
        if (rl.length !== 0) this.node(elem, undefined, rl[0]);
        c.removed.insert(path);
      } else {
        if (ll.length !== 0) this.node(elem, ll[0], undefined);
        c.added.insert(path);
      }
      path.pop();
    }
  }
}

const NONE: readonly unknown[] = [];

export function isEmptyMap(m: JsonMap): boolean {
  for (const _ in m) return false;
  return true;
}
