// Templates of stage patches: plain YAML values in which `${expr}` strings are replaced by the
// expression's value, plus four directives ($if/$then/$else, $each/$as/$do, $merge). A value that
// comes out undefined is left out, so optional fields simply vanish. Compiled once to closures.
import { compileExpression, truthy, type Env, type Expr } from './expression.ts';

/** A compiled template. */
export type Template = (env: Env) => unknown;

/** A malformed template; the message names the path inside it. */
export class TemplateError extends Error {
  readonly code = 'InvalidTemplate';
  constructor(where: string, what: string) {
    super(`template ${where}: ${what}`);
    this.name = 'TemplateError';
  }
}

const DIRECTIVES = new Set(['$if', '$then', '$else', '$each', '$as', '$do', '$merge']);

/** The end of the `${…}` starting at `open` (index of "$"), skipping quoted strings; -1 when unclosed. */
function closeOf(s: string, open: number): number {
  let quote = '';
  for (let i = open + 2; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '}') {
      return i;
    }
  }
  return -1;
}

function compileString(s: string, where: string): Template {
  const first = s.indexOf('${');
  if (first < 0) return () => s;
  const parts: (string | Expr)[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('${', i);
    if (open < 0) { parts.push(s.slice(i)); break; }
    if (open > i) parts.push(s.slice(i, open));
    const close = closeOf(s, open);
    if (close < 0) throw new TemplateError(where, `unclosed "\${" in ${JSON.stringify(s)}`);
    try {
      parts.push(compileExpression(s.slice(open + 2, close)));
    } catch (err) {
      throw new TemplateError(where, (err as Error).message);
    }
    i = close + 1;
  }
  // A string that is exactly one expression keeps the expression's type (number, bool, object).
  if (parts.length === 1 && typeof parts[0] === 'function') return parts[0];
  return (env) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(env);
        if (v !== undefined && v !== null) out += typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  };
}

function bind(env: Env, name: string, value: unknown): Env {
  const vars = Object.create(env.vars) as Record<string, unknown>;
  vars[name] = value;
  return { root: env.root, vars };
}

function compileEach(o: Record<string, unknown>, where: string): (env: Env) => unknown[] {
  if (typeof o['$each'] !== 'string') throw new TemplateError(where, '$each must be an expression string');
  const src = o['$each'].startsWith('${') ? o['$each'] : `\${${o['$each']}}`;
  const list = compileString(src, `${where}.$each`);
  const as = o['$as'] ?? 'item';
  if (typeof as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(as)) throw new TemplateError(where, `$as must be a variable name, got ${JSON.stringify(as)}`);
  if (!('$do' in o)) throw new TemplateError(where, '$each needs $do');
  for (const k of Object.keys(o)) if (!['$each', '$as', '$do'].includes(k)) throw new TemplateError(where, `${k} cannot be used with $each`);
  const body = compileNode(o['$do'], `${where}.$do`);
  return (env) => {
    const v = list(env);
    const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
    const out: unknown[] = [];
    for (const item of items) {
      const r = body(bind(env, as, item));
      if (r !== undefined) out.push(r);
    }
    return out;
  };
}

function compileIf(o: Record<string, unknown>, where: string): Template {
  if (typeof o['$if'] !== 'string') throw new TemplateError(where, '$if must be an expression string');
  const src = o['$if'].startsWith('${') ? o['$if'] : `\${${o['$if']}}`;
  const cond = compileString(src, `${where}.$if`);
  for (const k of Object.keys(o)) if (!['$if', '$then', '$else'].includes(k)) throw new TemplateError(where, `${k} cannot be used with $if`);
  if (!('$then' in o)) throw new TemplateError(where, '$if needs $then');
  const then = compileNode(o['$then'], `${where}.$then`);
  const otherwise = '$else' in o ? compileNode(o['$else'], `${where}.$else`) : () => undefined;
  return (env) => (truthy(cond(env)) ? then(env) : otherwise(env));
}

function compileObject(o: Record<string, unknown>, where: string): Template {
  if ('$each' in o) {
    // As a field value, an empty list is left out (as the API server omits empty lists).
    const each = compileEach(o, where);
    return (env) => {
      const r = each(env);
      return r.length > 0 ? r : undefined;
    };
  }
  if ('$if' in o) return compileIf(o, where);
  for (const k of Object.keys(o)) if (DIRECTIVES.has(k) && k !== '$merge') throw new TemplateError(where, `${k} without its directive`);
  let base: Template | undefined;
  if ('$merge' in o) {
    const m = o['$merge'];
    if (typeof m !== 'string') throw new TemplateError(where, '$merge must be an expression string');
    base = compileString(m.startsWith('${') ? m : `\${${m}}`, `${where}.$merge`);
  }
  const fields = Object.entries(o).filter(([k]) => k !== '$merge').map(([k, v]) => [k, compileNode(v, `${where}.${k}`)] as const);
  return (env) => {
    const b = base?.(env);
    const out: Record<string, unknown> = b !== null && typeof b === 'object' && !Array.isArray(b) ? structuredClone(b as Record<string, unknown>) : {};
    for (const [k, f] of fields) {
      const v = f(env);
      if (v !== undefined) out[k] = v;
      else delete out[k];
    }
    return out;
  };
}

function compileArray(a: readonly unknown[], where: string): Template {
  // An element that is a $each spreads its results in place; elements that come out undefined are dropped.
  const parts = a.map((el, i) => {
    const w = `${where}[${i}]`;
    if (el !== null && typeof el === 'object' && !Array.isArray(el) && '$each' in el) {
      return { spread: true, f: compileEach(el as Record<string, unknown>, w) as Template };
    }
    return { spread: false, f: compileNode(el, w) };
  });
  return (env) => {
    const out: unknown[] = [];
    for (const p of parts) {
      const v = p.f(env);
      if (p.spread) out.push(...(v as unknown[]));
      else if (v !== undefined) out.push(v);
    }
    return out;
  };
}

function compileNode(node: unknown, where: string): Template {
  if (typeof node === 'string') return compileString(node, where);
  if (Array.isArray(node)) return compileArray(node, where);
  if (node !== null && typeof node === 'object') return compileObject(node as Record<string, unknown>, where);
  return () => node;
}

/** Compiles a template (a parsed YAML value); `where` names it in errors. */
export function compileTemplate(node: unknown, where = '$'): Template {
  return compileNode(node, where);
}
