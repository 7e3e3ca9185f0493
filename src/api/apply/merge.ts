// Merging an applied configuration into an object and removing fields from it (upstream's
// structured-merge-diff typed Merge and RemoveItems), walking values with the apply schema.
import { fieldElement, type FieldSet, type PathElement, pathString } from './fieldpath.ts';
import { DEDUCED, type Atom, type ListType } from './schema.ts';
import { LIST, MAP, SCALAR, deduce, elementText, fieldAtom, handled, isEmptyMap, isMap, listItemElement, scalarError, type JsonMap, type WalkError } from './typed.ts';

/** Merges `rhs` (an applied configuration) into `lhs` (upstream's TypedValue.Merge, rhs wins). */
export function merge(atom: Atom, lhs: unknown, rhs: unknown): { value: unknown; errors: WalkError[] } {
  const errs: WalkError[] = [];
  const path: PathElement[] = [];
  const err = (message: string): void => void errs.push({ path: pathString(path), message });

  const node = (a: Atom, l: unknown, r: unknown): unknown => {
    const ml = deduce(a, l);
    const mr = deduce(a, r);
    const state: MergeState = { inLeaf: false, out: undefined };
    if (r === undefined) handle(a, handled(ml), l, r, state);
    else if (l === undefined || ml === mr) handle(a, handled(mr), l, r, state);
    else {
      handle(a, handled(ml), l, r, { inLeaf: false, out: undefined });
      handle(a, handled(mr), l, r, state);
    }
    return state.out;
  };

  const leaf = (l: unknown, r: unknown, state: MergeState): void => {
    if (state.inLeaf) return;
    state.inLeaf = true;
    state.out = r !== undefined ? r : l;
  };

  const handle = (a: Atom, kind: number, l: unknown, r: unknown, state: MergeState): void => {
    if (kind === SCALAR) {
      const le = scalarError(a.scalar, l);
      const re = scalarError(a.scalar, r);
      if (le && re) {
        err(`lhs: ${le}`);
        err(`rhs: ${re}`);
        return;
      }
      leaf(l, r, state);
    } else if (kind === LIST) {
      const ll = Array.isArray(l) ? l : undefined;
      const rl = Array.isArray(r) ? r : undefined;
      if (a.list!.atomic || ((!ll || ll.length === 0) && (!rl || rl.length === 0))) return leaf(l, r, state);
      const out = listItems(a.list!, ll, rl);
      if (out.length > 0) state.out = out;
    } else if (kind === MAP) {
      const lm = isMap(l) ? l : undefined;
      const rm = isMap(r) ? r : undefined;
      if (a.map!.atomic || ((!lm || isEmptyMap(lm)) && (!rm || isEmptyMap(rm)))) return leaf(l, r, state);
      const t = a.map!;
      const out: JsonMap = {};
      let any = false;
      const visit = (key: string, lv: unknown, rv: unknown): void => {
        path.push(fieldElement(key));
        const v = node(fieldAtom(t, key) ?? DEDUCED, lv, rv);
        path.pop();
        if (v !== undefined) {
          out[key] = v;
          any = true;
        }
      };
      if (lm) for (const key of Object.keys(lm)) visit(key, lm[key], rm?.[key]);
      if (rm) for (const key of Object.keys(rm)) if (!lm || !(key in lm)) visit(key, undefined, rm[key]);
      if (any) state.out = out;
    } else {
      err(`schema error: invalid atom: ${a.name ? 'named type: ' + a.name : 'inlined'}`);
    }
  };

  const indexList = (t: ListType, list: unknown[] | undefined, allowDuplicates: boolean, errors: string[]): { pes: PathElement[]; observed: Map<string, unknown> } => {
    const pes: PathElement[] = [];
    const observed = new Map<string, unknown>();
    if (!list) return { pes, observed };
    for (let i = 0; i < list.length; i++) {
      const pe = listItemElement(t, list[i]);
      if (typeof pe === 'string') {
        errors.push(`element ${i}: ${pe}`);
        continue;
      }
      const found = observed.has(pe.id);
      if (found && !allowDuplicates) {
        errors.push(`duplicate entries for key ${elementText(pe)}`);
        continue;
      }
      // A duplicated live item merges as null: the config replaces all of its copies.
      observed.set(pe.id, found ? null : list[i]);
      pes.push(pe);
    }
    return { pes, observed };
  };

  // Upstream's order: the config's items in its order, live-only items kept where they were.
  const listItems = (t: ListType, l: unknown[] | undefined, r: unknown[] | undefined): unknown[] => {
    const out: unknown[] = [];
    const problems: string[] = [];
    const rhs = indexList(t, r, false, problems);
    const lhs = indexList(t, l, true, problems);
    if (problems.length > 0) {
      for (const p of problems) err(p);
      return out;
    }
    const elem = t.elem();
    const item = (pe: PathElement, lv: unknown, rv: unknown): void => {
      path.push(pe);
      const v = node(elem, lv, rv);
      path.pop();
      if (v !== undefined) out.push(v);
    };
    const shared: PathElement[] = [];
    for (const pe of rhs.pes) if (lhs.observed.has(pe.id)) shared.push(pe);
    let sharedAt = 0;
    let nextShared: PathElement | undefined = shared[sharedAt++];
    const mergedRHS = new Set<string>();
    const lLen = lhs.pes.length;
    const rLen = rhs.pes.length;
    for (let lI = 0, rI = 0; lI < lLen || rI < rLen;) {
      if (lI < lLen && rI < rLen) {
        const pe = lhs.pes[lI]!;
        if (pe.id === rhs.pes[rI]!.id) {
          mergedRHS.add(pe.id);
          item(pe, lhs.observed.get(pe.id), rhs.observed.get(pe.id));
          lI++;
          rI++;
          nextShared = shared[sharedAt++];
          continue;
        }
        if (rhs.observed.has(pe.id) && nextShared !== undefined && nextShared.id !== pe.id) {
          lI++;
          continue;
        }
      }
      if (lI < lLen) {
        const pe = lhs.pes[lI]!;
        if (!rhs.observed.has(pe.id)) {
          item(pe, l![lI], undefined);
          lI++;
          continue;
        } else if (mergedRHS.has(pe.id)) {
          lI++;
        }
      }
      if (rI < rLen) {
        const pe = rhs.pes[rI]!;
        mergedRHS.add(pe.id);
        item(pe, lhs.observed.get(pe.id), rhs.observed.get(pe.id));
        rI++;
        if (nextShared !== undefined && nextShared.id === pe.id) nextShared = shared[sharedAt++];
      }
    }
    return out;
  };

  const value = node(atom, lhs, rhs);
  return { value, errors: errs };
}

interface MergeState {
  inLeaf: boolean;
  out: unknown;
}

/** The value without the fields in `toRemove` (upstream's RemoveItems); emptied lists and maps become null. */
export function removeItems(atom: Atom, value: unknown, toRemove: FieldSet): unknown {
  const walk = (a: Atom, v: unknown, remove: FieldSet): unknown => {
    const kind = handled(deduce(a, v));
    if (kind === SCALAR) return v === undefined ? null : v;
    if (kind === LIST) {
      if (!Array.isArray(v) || v.length === 0) return null;
      const t = a.list!;
      if (t.atomic) return null;
      const elem = t.elem();
      const out: unknown[] = [];
      for (const item of v) {
        const pe = listItemElement(t, item);
        if (typeof pe === 'string') {
          out.push(item);
          continue;
        }
        if (remove.hasMember(pe)) continue;
        const subset = remove.withPrefix(pe);
        out.push(subset.empty() ? item : walk(elem, item, subset));
      }
      return out.length > 0 ? out : null;
    }
    if (kind === MAP) {
      if (!isMap(v) || isEmptyMap(v)) return null;
      const t = a.map!;
      if (t.atomic) return null;
      const out: JsonMap = {};
      let any = false;
      for (const key of Object.keys(v)) {
        const pe = fieldElement(key);
        if (remove.hasMember(pe)) continue;
        const subset = remove.withPrefix(pe);
        out[key] = subset.empty() ? v[key] : walk(fieldAtom(t, key) ?? DEDUCED, v[key], subset);
        any = true;
      }
      return any ? out : null;
    }
    return null;
  };
  return walk(atom, value, toRemove);
}
