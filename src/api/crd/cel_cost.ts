// The static cost estimate of x-kubernetes-validations rules (cel-go's checker.Cost with the
// Kubernetes library estimator and apiextensions' schema size estimator): the worst-case cost of
// one evaluation from the schema's maxLength/maxItems/maxProperties (or what a 3 MiB request could
// hold), and the cardinality a rule is evaluated with. CRD validation rejects rules over budget.
//
// Differences from upstream, on purpose or for now: cel-js has no overload resolution, so a call on
// a dynamically typed value is costed as the overloads its operand kinds allow (union, as cel-go
// does for dyn); two-variable comprehensions, cel.bind and the strings extension's format() cost 1
// plus their arguments; optional field selection costs like a call.
import type { Structural } from './structural.ts';

/** Upstream's per-expression limit of the estimated cost (StaticEstimatedCostLimit). */
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
/** Upstream's limit of all estimated rule costs of one CRD version's schema (StaticEstimatedCRDCostLimit). */
export const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000;
/** How many of the costliest rules a total over budget names. */
export const MAX_LIMITED_COST_RULE_COUNT = 4;

const MAX_REQUEST_SIZE = 3 * 1024 * 1024;
const U64 = 18446744073709551615;
const TRAVERSAL = 0.1;
const REGEX_LENGTH = 0.25;

/** What the estimate knows of a value's type (upstream's DeclType: kind, sizes, members). */
interface Decl {
  readonly kind: 'string' | 'bytes' | 'int' | 'double' | 'bool' | 'duration' | 'timestamp' | 'list' | 'map' | 'object' | 'dyn';
  /** The largest size (characters in bytes, items, entries) a value can have. */
  readonly maxElements: number;
  /** The smallest JSON a value serializes to. */
  readonly minSize: number;
  readonly fields?: ReadonlyMap<string, Decl>;
  readonly elem?: Decl;
  readonly key?: Decl;
}

interface Range {
  readonly min: number;
  readonly max: number;
}

const sat = (n: number): number => (n > U64 ? U64 : n);
const add = (a: Range, b: Range): Range => ({ min: sat(a.min + b.min), max: sat(a.max + b.max) });
const mul = (a: Range, b: Range): Range => ({ min: sat(a.min * b.min), max: sat(a.max * b.max) });
const factor = (a: Range, f: number): Range => ({ min: sat(Math.ceil(a.min * f)), max: sat(Math.ceil(a.max * f)) });
const union = (a: Range, b: Range): Range => ({ min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) });
const fixed = (n: number): Range => ({ min: n, max: n });
const UNKNOWN: Range = { min: 0, max: U64 };
const ZERO = fixed(0);
const ONE = fixed(1);

const STRING_KEY: Decl = { kind: 'string', maxElements: 0, minSize: 2 };
const DYN: Decl = { kind: 'dyn', maxElements: 0, minSize: 1 };

function stringMax(s: Structural): number {
  const raw = s.raw;
  if (typeof raw['maxLength'] === 'number') return Math.max(0, raw['maxLength']) * 4;
  const e = raw['enum'];
  if (Array.isArray(e) && e.length > 0) return Math.max(...e.map((v) => (typeof v === 'string' ? v.length : 0)));
  return MAX_REQUEST_SIZE - 2;
}

const objectMeta = (): Decl => ({
  kind: 'object', maxElements: 0, minSize: 2,
  fields: new Map([['name', { kind: 'string', maxElements: MAX_REQUEST_SIZE - 2, minSize: 2 }], ['generateName', { kind: 'string', maxElements: MAX_REQUEST_SIZE - 2, minSize: 2 }]]),
});

/** The Decl of a schema node (upstream's SchemaDeclType), resource roots with apiVersion, kind and metadata. */
export function declOf(s: Structural, isResourceRoot: boolean): Decl {
  if (s.intOrString) return { kind: 'dyn', maxElements: MAX_REQUEST_SIZE - 2, minSize: 1 };
  const fmt = s.format;
  switch (s.type) {
    case 'array': {
      const elem = s.items ? declOf(s.items, s.items.embeddedResource) : DYN;
      const maxItems = typeof s.raw['maxItems'] === 'number' ? Math.max(0, s.raw['maxItems']) : Math.floor((MAX_REQUEST_SIZE - 2) / (elem.minSize + 1));
      return { kind: 'list', maxElements: maxItems, minSize: 2, elem };
    }
    case 'object': {
      if (s.additionalProperties !== undefined && s.additionalProperties !== true && !s.properties) {
        const elem = declOf(s.additionalProperties, s.additionalProperties.embeddedResource);
        const maxProps = typeof s.raw['maxProperties'] === 'number' ? Math.max(0, s.raw['maxProperties']) : Math.floor((MAX_REQUEST_SIZE - 2) / (elem.minSize + 6));
        return { kind: 'map', maxElements: maxProps, minSize: 2, elem, key: STRING_KEY };
      }
      if (s.preserveUnknownFields && !s.properties) return DYN;
      const fields = new Map<string, Decl>();
      for (const [k, v] of s.properties ?? []) fields.set(k, declOf(v, v.embeddedResource));
      if (isResourceRoot) {
        fields.set('apiVersion', { kind: 'string', maxElements: MAX_REQUEST_SIZE - 2, minSize: 2 });
        fields.set('kind', { kind: 'string', maxElements: MAX_REQUEST_SIZE - 2, minSize: 2 });
        fields.set('metadata', objectMeta());
      }
      return { kind: 'object', maxElements: 0, minSize: 2, fields };
    }
    case 'string':
      if (fmt === 'byte') return { kind: 'bytes', maxElements: typeof s.raw['maxLength'] === 'number' ? s.raw['maxLength'] : MAX_REQUEST_SIZE - 2, minSize: 2 };
      if (fmt === 'duration') return { kind: 'duration', maxElements: 0, minSize: 4 };
      if (fmt === 'date' || fmt === 'date-time') return { kind: 'timestamp', maxElements: 0, minSize: 12 };
      return { kind: 'string', maxElements: stringMax(s), minSize: 2 };
    case 'boolean': return { kind: 'bool', maxElements: 0, minSize: 4 };
    case 'integer': return { kind: 'int', maxElements: 0, minSize: 1 };
    case 'number': return { kind: 'double', maxElements: 0, minSize: 1 };
    default: return DYN;
  }
}

/** The worst-case number of times data of this minimum size fits in one request (upstream's maxCardinality). */
export function maxCardinality(minSize: number): number {
  return Math.floor(MAX_REQUEST_SIZE / (minSize + 1));
}

/** What the walk knows of one expression. */
interface Est {
  readonly cost: Range;
  /** The static type, when known. */
  readonly decl?: Decl;
  /** The value is reached from self by a path (its size comes from the schema). */
  readonly path?: boolean;
  /** A size computed from the expression itself (literals, concatenations, call results). */
  readonly size?: Range;
  /** The sizes of a literal list's items. */
  readonly itemSize?: Range;
  /** The kind of a literal. */
  readonly literal?: Decl['kind'] | 'null';
}

interface Node {
  readonly op: string;
  readonly args: unknown;
}

const SCALAR_KINDS = new Set(['bool', 'double', 'duration', 'int', 'timestamp']);

function kindOf(e: Est): string | undefined {
  return e.decl?.kind ?? e.literal;
}

function sizeOf(e: Est): Range {
  if (e.size) return e.size;
  if (e.path && e.decl) return { min: 0, max: e.decl.maxElements };
  const k = kindOf(e);
  if (k && SCALAR_KINDS.has(k)) return ONE;
  return UNKNOWN;
}

function literalEst(v: unknown): Est {
  if (typeof v === 'string') return { cost: ZERO, size: fixed([...v].length), literal: 'string' };
  if (v instanceof Uint8Array) return { cost: ZERO, size: fixed(v.length), literal: 'bytes' };
  if (typeof v === 'bigint') return { cost: ZERO, size: ONE, literal: 'int' };
  if (typeof v === 'number') return { cost: ZERO, size: ONE, literal: 'double' };
  if (typeof v === 'boolean') return { cost: ZERO, size: ONE, literal: 'bool' };
  if (v === null) return { cost: ZERO, size: ONE, literal: 'null' };
  return { cost: ZERO };
}

/** The estimate of one expression against the schema node its `self` is. */
export class CostEstimator {
  readonly #root: Decl;
  readonly #vars = new Map<string, Est[]>();

  constructor(s: Structural, isRoot: boolean) {
    this.#root = declOf(s, isRoot || s.embeddedResource);
  }

  /** The estimated cost range of a cel-js AST (upstream's MaxCost is its max). */
  estimate(ast: unknown): Range {
    return this.#est(ast as Node).cost;
  }

  #est(n: Node): Est {
    const a = n.args as unknown[];
    switch (n.op) {
      case 'value': return literalEst(n.args);
      case 'id': return this.#ident(String(n.args));
      case '.': return this.#select(this.#est(a[0] as Node), String(a[1]));
      case '.?': {
        const t = this.#est(a[0] as Node);
        return { cost: add(t.cost, ONE), decl: this.#field(t.decl, String(a[1])), path: false };
      }
      case '[]': case '[?]': {
        const t = this.#est(a[0] as Node);
        const i = this.#est(a[1] as Node);
        const k = kindOf(t);
        const decl = k === 'list' || k === 'map' ? t.decl?.elem : undefined;
        const size = k === 'list' && t.itemSize ? t.itemSize : undefined;
        return { cost: add(add(t.cost, i.cost), ONE), decl, path: t.path === true && decl !== undefined, ...(size ? { size } : {}) };
      }
      case '&&': case '||': {
        const l = this.#est(a[0] as Node);
        const r = this.#est(a[1] as Node);
        return { cost: { min: l.cost.min, max: sat(l.cost.max + r.cost.max) }, literal: 'bool' };
      }
      case '?:': {
        const c = this.#est(a[0] as Node);
        const t = this.#est(a[1] as Node);
        const f = this.#est(a[2] as Node);
        const decl = t.decl && f.decl && t.decl.kind === f.decl.kind ? t.decl : undefined;
        return { cost: add(c.cost, union(t.cost, f.cost)), size: union(sizeOf(t), sizeOf(f)), ...(decl ? { decl } : {}) };
      }
      case '!_': case '-_': {
        const x = this.#est(n.args as Node);
        return { cost: add(x.cost, ONE), ...(x.decl ? { decl: x.decl } : {}), ...(x.literal ? { literal: x.literal } : {}) };
      }
      case 'list': {
        let cost = fixed(10);
        let item: Range | undefined;
        for (const x of a) {
          const e = this.#est(x as Node);
          cost = add(cost, e.cost);
          item = item ? union(item, sizeOf(e)) : sizeOf(e);
        }
        return { cost, size: fixed(a.length), itemSize: item ?? ZERO, literal: 'list' };
      }
      case 'map': {
        let cost = fixed(30);
        for (const [k, v] of a as [Node, Node][]) cost = add(add(cost, this.#est(k).cost), this.#est(v).cost);
        return { cost, size: fixed(a.length), literal: 'map' };
      }
      case 'call': return this.#call(String(a[0]), undefined, a[1] as Node[]);
      case 'rcall': return this.#call(String(a[0]), a[1] as Node, a[2] as Node[]);
      default: return this.#binary(n.op, this.#est(a[0] as Node), this.#est(a[1] as Node));
    }
  }

  #ident(name: string): Est {
    const local = this.#vars.get(name);
    if (local && local.length > 0) {
      const v = local[local.length - 1]!;
      return { ...v, cost: ONE };
    }
    if (name === 'self' || name === 'oldSelf') return { cost: ONE, decl: this.#root, path: true };
    return { cost: ONE };
  }

  #field(decl: Decl | undefined, name: string): Decl | undefined {
    if (!decl) return undefined;
    if (decl.kind === 'object') return decl.fields?.get(name);
    if (decl.kind === 'map') return decl.elem;
    return undefined;
  }

  #select(t: Est, name: string): Est {
    const k = kindOf(t);
    // Selecting from a map or an object costs 1; from a dynamically typed value, nothing more.
    const cost = k === 'object' || k === 'map' ? add(t.cost, ONE) : t.cost;
    const decl = this.#field(t.decl, name);
    return { cost, decl, path: t.path === true && t.decl?.kind === 'object' && decl !== undefined };
  }

  #binary(op: string, l: Est, r: Est): Est {
    const args = add(l.cost, r.cost);
    const lk = kindOf(l);
    const rk = kindOf(r);
    const sized = (k: string | undefined): boolean => k === 'string' || k === 'bytes';
    const unknownKind = (k: string | undefined): boolean => k === undefined || k === 'dyn';
    const compare = (): Range => {
      const ls = sizeOf(l);
      const rs = sizeOf(r);
      const smallest = Math.min(ls.max, rs.max);
      return factor({ min: smallest > 0 ? 1 : 0, max: smallest }, TRAVERSAL);
    };
    switch (op) {
      case '==': case '!=':
        return { cost: add(compare(), args), literal: 'bool' };
      case '<': case '<=': case '>': case '>=': {
        let c = ONE;
        if (sized(lk) || sized(rk)) c = compare();
        else if (unknownKind(lk) && unknownKind(rk)) c = union(ONE, compare());
        return { cost: add(c, args), literal: 'bool' };
      }
      case 'in': {
        let c = ONE;
        if (rk === 'list') c = factor(sizeOf(r), 1);
        else if (unknownKind(rk)) c = union(ONE, factor(sizeOf(r), 1));
        return { cost: add(c, args), literal: 'bool' };
      }
      case '+': {
        const size = add(sizeOf(l), sizeOf(r));
        if (lk === 'list' || rk === 'list') {
          const decl = l.decl?.kind === 'list' ? l.decl : r.decl?.kind === 'list' ? r.decl : undefined;
          const itemSize = l.itemSize && r.itemSize ? union(l.itemSize, r.itemSize) : undefined;
          return { cost: add(ONE, args), size, literal: 'list', ...(decl ? { decl } : {}), ...(itemSize ? { itemSize } : {}) };
        }
        if (sized(lk) || sized(rk)) return { cost: add(factor(size, TRAVERSAL), args), size, literal: sized(lk) ? lk as 'string' : rk as 'string' };
        if (unknownKind(lk) && unknownKind(rk)) return { cost: add(union(ONE, factor(size, TRAVERSAL)), args), size };
        return { cost: add(ONE, args), ...(lk ? { literal: lk as Decl['kind'] } : {}) };
      }
      default:
        return { cost: add(ONE, args), ...(lk && SCALAR_KINDS.has(lk) ? { literal: lk as Decl['kind'] } : {}) };
    }
  }

  #call(name: string, targetNode: Node | undefined, argNodes: readonly Node[]): Est {
    if (name === 'has' && !targetNode && argNodes.length === 1) {
      const sel = argNodes[0]!;
      // A presence test costs 1 plus its operand, not the selection itself.
      const operand = sel.op === '.' ? this.#est((sel.args as unknown[])[0] as Node) : this.#est(sel);
      return { cost: add(operand.cost, ONE), literal: 'bool' };
    }
    if (targetNode && argNodes.length >= 2 && argNodes[0]!.op === 'id' && MACROS.has(name)) {
      return this.#comprehension(name, targetNode, String(argNodes[0]!.args), argNodes.slice(1));
    }
    const target = targetNode ? this.#est(targetNode) : undefined;
    const args = argNodes.map((x) => this.#est(x));
    let argCost = ZERO;
    for (const x of args) argCost = add(argCost, x.cost);
    const base = target ? add(target.cost, argCost) : argCost;
    const r = this.#function(name, target, args);
    return { ...r, cost: add(base, r.cost) };
  }

  /** The cost of the call itself (arguments and target aside) and what is known of its result. */
  #function(name: string, target: Est | undefined, args: readonly Est[]): Est {
    const subject = target ?? args[0];
    const arg = target ? args[0] : args[1];
    switch (name) {
      case 'dyn': return { cost: ONE, ...(args[0]?.size ? { size: args[0].size } : {}) };
      case 'size': return { cost: ONE, decl: { kind: 'int', maxElements: 0, minSize: 1 } };
      case 'matches':
        if (subject && arg) return { cost: mul(factor(add(sizeOf(subject), ONE), TRAVERSAL), factor(sizeOf(arg), REGEX_LENGTH)), literal: 'bool' };
        break;
      case 'contains':
        if (target && arg) return { cost: mul(factor(sizeOf(target), TRAVERSAL), factor(sizeOf(arg), TRAVERSAL)), literal: 'bool' };
        break;
      case 'startsWith': case 'endsWith':
        if (target && arg) return { cost: factor(sizeOf(arg), TRAVERSAL), literal: 'bool' };
        break;
      case 'isSorted': case 'sum': case 'max': case 'min': case 'indexOf': case 'lastIndexOf':
        if (target) {
          if (kindOf(target) === 'list') {
            let el = ONE;
            const elem = target.decl?.elem;
            if (elem && (elem.kind === 'string' || elem.kind === 'bytes')) {
              const es = target.path ? { min: 0, max: elem.maxElements } : target.itemSize ?? UNKNOWN;
              el = add(el, factor(es, TRAVERSAL));
            } else if (!elem && target.itemSize && target.literal === 'list') {
              el = ONE;
            }
            return { cost: mul(sizeOf(target), el) };
          }
          return { cost: factor(sizeOf(target), TRAVERSAL) };
        }
        break;
      case 'url': case 'quantity': case 'isQuantity': case 'isURL':
        if (args[0]) return { cost: factor(sizeOf(args[0]), TRAVERSAL) };
        break;
      case 'cidr': case 'isIP': case 'isCIDR': case 'ip':
        if (args[0] && !target) return { cost: factor(sizeOf(args[0]), TRAVERSAL) };
        if (target) return { cost: ONE };
        break;
      case 'lowerAscii': case 'upperAscii': case 'substring': case 'trim':
        if (target) return { cost: factor(sizeOf(target), TRAVERSAL), size: sizeOf(target), literal: 'string' };
        break;
      case 'replace':
        if (target) return { cost: factor(sizeOf(target), 2 * TRAVERSAL), literal: 'string' };
        break;
      case 'split':
        if (target) return { cost: factor(sizeOf(target), 2 * TRAVERSAL), size: { min: 0, max: sizeOf(target).max }, literal: 'list' };
        break;
      case 'join':
        if (target) {
          const n = sizeOf(target);
          const elem = target.decl?.elem;
          let sz = elem ? mul(n, target.path ? { min: 0, max: elem.maxElements } : UNKNOWN) : target.itemSize ? mul(n, target.itemSize) : ZERO;
          if (arg) sz = add(sz, mul(sizeOf(arg), { min: n.min > 0 ? n.min - 1 : 0, max: n.max > 0 ? n.max - 1 : 0 }));
          return { cost: factor(sz, TRAVERSAL), size: sz, literal: 'string' };
        }
        break;
      case 'find': case 'findAll':
        if (target && arg) return { cost: mul(factor(add(sizeOf(target), ONE), TRAVERSAL), factor(sizeOf(arg), REGEX_LENGTH)), size: { min: 0, max: sizeOf(target).max } };
        break;
      case 'check': return { cost: fixed(350000) };
    }
    return { cost: ONE };
  }

  #comprehension(name: string, rangeNode: Node, variable: string, body: readonly Node[]): Est {
    const range = this.#est(rangeNode);
    const n = sizeOf(range);
    const k = kindOf(range);
    const elemDecl = k === 'list' ? range.decl?.elem : k === 'map' ? range.decl?.key : undefined;
    const iter: Est = {
      cost: ONE,
      ...(elemDecl ? { decl: elemDecl, path: range.path === true } : {}),
      ...(k === 'list' && range.itemSize ? { size: range.itemSize } : {}),
    };
    const stack = this.#vars.get(variable) ?? [];
    stack.push(iter);
    this.#vars.set(variable, stack);
    let perItem: Range;
    let init = ZERO;
    let result = ONE;
    let out: Partial<Est> = { literal: 'bool' };
    try {
      const p = this.#est(body[0]!).cost;
      switch (name) {
        case 'all': perItem = add(fixed(2), { min: 1, max: sat(1 + p.max) }); break;
        case 'exists': perItem = add(fixed(3), { min: 1, max: sat(1 + p.max) }); break;
        case 'exists_one': perItem = add(p, fixed(2)); result = fixed(2); break;
        case 'filter':
          init = fixed(10);
          perItem = add(p, fixed(13));
          out = { size: n, literal: 'list', ...(range.decl?.kind === 'list' ? { decl: range.decl } : {}) };
          break;
        default: { // map(x, f) and map(x, p, f)
          init = fixed(10);
          if (body.length >= 2) {
            const f = this.#est(body[1]!).cost;
            perItem = add(p, union(add(fixed(12), f), ONE));
          } else {
            perItem = add(fixed(12), p);
          }
          out = { size: n, literal: 'list' };
        }
      }
    } finally {
      stack.pop();
    }
    return { ...out, cost: add(add(add(range.cost, init), result), mul(n, perItem)) };
  }
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/** The estimated maximum cost of one rule on schema node `s` (upstream's CompilationResult.MaxCost). */
export function estimateMaxCost(ast: unknown, s: Structural, isRoot: boolean): number {
  return new CostEstimator(s, isRoot).estimate(ast).max;
}

/** upstream's multiplyWithOverflowGuard. */
export function multiplyCost(cost: number, cardinality: number): number {
  if (cost === 0) return 0;
  return sat(cost * cardinality);
}

/** Go's %f of a float64 (six decimals). */
function goFixed6(n: number): string {
  return n.toFixed(6);
}

/** Upstream's getCostErrorMessage. */
export function costErrorMessage(costName: string, cost: number, limit: number): string {
  const f = cost / limit;
  const shown = f > 100 ? 'more than 100x' : f < 1.5 ? `${goFixed6(f)}x` : `${f.toFixed(1)}x`;
  return `${costName} exceeds budget by factor of ${shown} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}

/** The running total of a schema's rule costs and its costliest rules (upstream's TotalCost). */
export class TotalCost<P> {
  total = 0;
  readonly mostExpensive: { path: P; cost: number }[] = [];

  observe(path: P, cost: number): void {
    this.total = sat(this.total + cost);
    if (cost === 0) return;
    const list = this.mostExpensive;
    if (list.length < MAX_LIMITED_COST_RULE_COUNT || cost > list[list.length - 1]!.cost) {
      let i = list.findIndex((x) => cost > x.cost);
      if (i < 0) i = list.length;
      list.splice(i, 0, { path, cost });
      if (list.length > MAX_LIMITED_COST_RULE_COUNT) list.pop();
    }
  }
}
