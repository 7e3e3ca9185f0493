// Regular expressions of CEL's matches/find/findAll with bounded running time. cel-go uses RE2,
// which is linear in the input; JavaScript's engine backtracks, so a pattern such as ^(a+)+$ can
// run for minutes on a short string. A pattern runs on V8's linear-time engine (the `l` flag,
// switched on below) when that engine accepts it; the rest (large counted repetitions like
// {0,61}, which it refuses) run on the backtracking engine inside a vm script with a deadline.
// Patterns RE2 rejects (backreferences, lookaround) are rejected here too.
import { setFlagsFromString } from 'node:v8';
import { Script, createContext } from 'node:vm';

// Enables RegExp's `l` flag. It changes nothing for regular expressions that do not use the flag.
setFlagsFromString('--enable-experimental-regexp-engine');

/** Longest a backtracking match may run before the evaluation is cancelled. */
export const BACKTRACKING_DEADLINE_MS = 100;

/** A compiled pattern: `linear` ones cannot backtrack catastrophically. */
interface Compiled {
  readonly re: RegExp;
  readonly linear: boolean;
}

const MAX_CACHED = 500;
const cache = new Map<string, Compiled>();

/** RE2 has no backreferences or lookaround; cel-go reports these patterns as unparsable. */
function re2Refusal(pattern: string): string | undefined {
  const look = /\(\?<?[=!]/.exec(pattern);
  if (look) return `invalid or unsupported Perl syntax: \`${look[0]}\``;
  const backref = /\\[1-9]/.exec(pattern);
  if (backref) return `invalid escape sequence: \`${backref[0]}\``;
  return undefined;
}

function compile(pattern: string, flags: string): Compiled {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const refusal = re2Refusal(pattern);
  if (refusal) throw new Error(`error parsing regexp: ${refusal}`);
  let compiled: Compiled;
  try {
    compiled = { re: new RegExp(pattern, `${flags}l`), linear: true };
  } catch {
    try {
      compiled = { re: new RegExp(pattern, flags), linear: false };
    } catch (e) {
      throw new Error(`error parsing regexp: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

const sandbox = createContext({ re: /x/, s: '', at: 0, out: null as unknown });
const execScript = new Script('re.lastIndex = at; out = re.exec(s);');

/** Runs a backtracking pattern from `at` under a deadline; a pattern that runs away cancels the evaluation. */
function guardedExec(re: RegExp, s: string, at: number): RegExpExecArray | null {
  sandbox['re'] = re;
  sandbox['s'] = s;
  sandbox['at'] = at;
  try {
    execScript.runInContext(sandbox, { timeout: BACKTRACKING_DEADLINE_MS });
    return sandbox['out'] as RegExpExecArray | null;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new Error('operation cancelled: actual cost limit exceeded');
    throw e;
  } finally {
    sandbox['re'] = /x/;
    sandbox['s'] = '';
    sandbox['out'] = null;
  }
}

/** The next match at or after `at` (global patterns) or anywhere (others). */
function exec(c: Compiled, s: string, at = 0): RegExpExecArray | null {
  if (!c.linear) return guardedExec(c.re, s, at);
  c.re.lastIndex = at;
  return c.re.exec(s);
}

/** string.matches(regex): whether the pattern matches anywhere in s. */
export function regexMatches(s: string, pattern: string): boolean {
  return exec(compile(pattern, ''), s) !== null;
}

/** string.find(regex): the first match, or "". */
export function regexFind(s: string, pattern: string): string {
  return exec(compile(pattern, ''), s)?.[0] ?? '';
}

/** string.findAll(regex, limit): up to `limit` matches (all when negative). */
export function regexFindAll(s: string, pattern: string, limit: bigint): string[] {
  if (limit === 0n) return [];
  const c = compile(pattern, 'g');
  const out: string[] = [];
  let at = 0;
  while (at <= s.length) {
    const m = exec(c, s, at);
    if (m === null) break;
    out.push(m[0]);
    at = m.index + Math.max(m[0].length, 1);
    if (limit > 0n && BigInt(out.length) >= limit) break;
  }
  return out;
}
