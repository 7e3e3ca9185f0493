// The small expression language of simulation stages (stages/*.yaml): paths into the object
// (`.status.conditions[type=Ready].status`), variables (`now`, `node.ip`) and a registry of functions
// (`if`, `exists`, `max`, `hash` …). Expressions compile once to closures, so evaluating is cheap.
import { createHash } from 'node:crypto';

/** What an expression sees: the object under test and named variables (looked up through the prototype chain). */
export interface Env {
  readonly root: unknown;
  readonly vars: Readonly<Record<string, unknown>>;
}

/** A compiled expression. */
export type Expr = (env: Env) => unknown;

/** A function of the language; arguments arrive unevaluated so `if`, `and`, `or`, `default` can be lazy. */
export type ExprFunction = (args: readonly Expr[], env: Env) => unknown;

/** A malformed expression; the message quotes the text and the position. */
export class ExpressionError extends Error {
  readonly code = 'InvalidExpression';
  constructor(text: string, pos: number, what: string) {
    super(`expression ${JSON.stringify(text)} at ${pos}: ${what}`);
    this.name = 'ExpressionError';
  }
}

/** JavaScript truthiness, except that an empty list is false (a path with `[]` that matched nothing). */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Present: neither undefined, null nor an empty list. */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

function asList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return present(v) ? [v] : [];
}

function sha256(parts: readonly unknown[]): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\u0000')).digest('hex');
}

// Every pod of a workload names the same few images; hashing each once keeps pod starts cheap.
const imageIds = new Map<string, string>();

/** `repo@sha256:<hash>` for an image reference, the shape a runtime reports as imageID. */
function imageId(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return undefined;
  const known = imageIds.get(image);
  if (known !== undefined) return known;
  let repo = image.split('@')[0]!;
  const slash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  if (colon > slash) repo = repo.slice(0, colon);
  const id = `${repo}@sha256:${sha256([image])}`;
  if (imageIds.size >= 1024) imageIds.clear();
  imageIds.set(image, id);
  return id;
}

/** The functions every stage may call, by name. */
export const FUNCTIONS: ReadonlyMap<string, ExprFunction> = new Map<string, ExprFunction>([
  ['if', (a, env) => (truthy(a[0]?.(env)) ? a[1]?.(env) : a[2]?.(env))],
  ['and', (a, env) => a.every((x) => truthy(x(env)))],
  ['or', (a, env) => a.some((x) => truthy(x(env)))],
  ['not', (a, env) => !truthy(a[0]?.(env))],
  ['exists', (a, env) => present(a[0]?.(env))],
  ['default', (a, env) => {
    for (const x of a) {
      const v = x(env);
      if (present(v)) return v;
    }
    return undefined;
  }],
  ['eq', (a, env) => JSON.stringify(a[0]?.(env) ?? null) === JSON.stringify(a[1]?.(env) ?? null)],
  ['first', (a, env) => asList(a[0]?.(env))[0]],
  ['len', (a, env) => asList(a[0]?.(env)).length],
  ['max', (a, env) => asList(a[0]?.(env)).reduce<number>((m, v) => (typeof v === 'number' && v > m ? v : m), 0)],
  ['add', (a, env) => a.reduce((s, x) => s + Number(x(env) ?? 0), 0)],
  ['join', (a, env) => asList(a[0]?.(env)).map(String).join(String(a[1]?.(env) ?? ','))],
  ['hash', (a, env) => sha256(a.map((x) => x(env)))],
  ['imageID', (a, env) => imageId(a[0]?.(env))],
]);

type Tok =
  | { readonly t: 'punct'; readonly v: string; readonly pos: number }
  | { readonly t: 'ident'; readonly v: string; readonly pos: number }
  | { readonly t: 'str'; readonly v: string; readonly pos: number }
  | { readonly t: 'num'; readonly v: number; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') { i++; continue; }
    if ('.[](),='.includes(c)) { out.push({ t: 'punct', v: c, pos: i }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        s += text[j];
        j++;
      }
      if (j >= text.length) throw new ExpressionError(text, i, 'unterminated string');
      out.push({ t: 'str', v: s, pos: i });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num) { out.push({ t: 'num', v: Number(num[0]), pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i));
    if (id) { out.push({ t: 'ident', v: id[0], pos: i }); i += id[0].length; continue; }
    throw new ExpressionError(text, i, `unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

/** One step of a path over a list of current values; `multi` marks steps that make the result a list. */
interface Step {
  readonly apply: (cur: unknown[]) => unknown[];
  readonly multi: boolean;
}

function field(name: string): Step {
  return {
    multi: false,
    apply: (cur) => {
      const out: unknown[] = [];
      for (const v of cur) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
        const x = (v as Record<string, unknown>)[name];
        if (x !== undefined && x !== null) out.push(x);
      }
      return out;
    },
  };
}

function elements(keep: (el: unknown) => boolean): Step {
  return {
    multi: true,
    apply: (cur) => {
      const out: unknown[] = [];
      for (const v of cur) if (Array.isArray(v)) for (const el of v) if (el !== undefined && el !== null && keep(el)) out.push(el);
      return out;
    },
  };
}

/** Compiles an expression; throws ExpressionError naming the position of the problem. */
export function compileExpression(text: string, functions: ReadonlyMap<string, ExprFunction> = FUNCTIONS): Expr {
  const toks = tokenize(text);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const fail = (what: string): never => { throw new ExpressionError(text, peek().pos, what); };
  const punct = (v: string): boolean => {
    const t = peek();
    if (t.t === 'punct' && t.v === v) { p++; return true; }
    return false;
  };
  const expect = (v: string): void => { if (!punct(v)) fail(`expected ${JSON.stringify(v)}`); };

  function steps(): Step[] {
    const out: Step[] = [];
    for (;;) {
      if (punct('.')) {
        const t = peek();
        if (t.t !== 'ident') fail('expected a field name after "."');
        p++;
        out.push(field((t as { v: string }).v));
      } else if (punct('[')) {
        const t = peek();
        if (t.t === 'str') {
          p++;
          expect(']');
          out.push(field(t.v));
        } else if (t.t === 'punct' && t.v === ']') {
          p++;
          out.push(elements(() => true));
        } else if (t.t === 'ident') {
          p++;
          const key = t.v;
          if (punct('=')) {
            const v = peek();
            if (v.t !== 'str' && v.t !== 'ident' && v.t !== 'num') fail('expected a value after "="');
            p++;
            const want = (v as { v: string | number }).v;
            expect(']');
            out.push(elements((el) => typeof el === 'object' && (el as Record<string, unknown>)[key] === want));
          } else {
            expect(']');
            out.push(elements((el) => typeof el === 'object' && present((el as Record<string, unknown>)[key])));
          }
        } else {
          fail('expected a quoted key, a filter or "]"');
        }
      } else {
        return out;
      }
    }
  }

  function path(start: (env: Env) => unknown): Expr {
    const s = steps();
    if (s.length === 0) return start;
    const multi = s.some((x) => x.multi);
    return (env) => {
      const v0 = start(env);
      let cur: unknown[] = v0 === undefined || v0 === null ? [] : [v0];
      for (const step of s) cur = step.apply(cur);
      return multi ? cur : cur[0];
    };
  }

  function primary(): Expr {
    const t = peek();
    if (t.t === 'str' || t.t === 'num') { p++; return () => t.v; }
    if (t.t === 'punct' && t.v === '.') {
      // "." alone is the object; ".spec" is a field of it.
      const next = toks[p + 1]!;
      if (next.t === 'ident') return path((env) => env.root);
      p++;
      return path((env) => env.root);
    }
    if (t.t !== 'ident') return fail('expected a path, a variable, a function call or a literal');
    p++;
    if (t.v === 'true' || t.v === 'false') return () => t.v === 'true';
    if (t.v === 'null' || t.v === 'undefined') return () => undefined;
    if (punct('(')) {
      const fn = functions.get(t.v);
      if (!fn) throw new ExpressionError(text, t.pos, `unknown function ${JSON.stringify(t.v)}`);
      const args: Expr[] = [];
      if (!punct(')')) {
        do args.push(primary()); while (punct(','));
        expect(')');
      }
      return path((env) => fn(args, env));
    }
    const name = t.v;
    return path((env) => env.vars[name]);
  }

  const e = primary();
  if (peek().t !== 'end') fail('unexpected text after the expression');
  return e;
}
