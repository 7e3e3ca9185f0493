// Runtime cost limits of CEL evaluation (upstream's celconfig: PerCallLimit 1,000,000 per
// expression, RuntimeCELCostBudget 10,000,000 per policy evaluation). cel-js has no cost tracking,
// so this meters a compiled program from outside: every AST node the evaluator runs costs 1 (each
// comprehension iteration runs its step again), and the calls whose cel-go cost depends on the
// size of their operands (string and list concatenation, comparisons, `in` on lists, contains,
// startsWith, endsWith, matches, find, findAll, join, split, size-linear list functions) add the
// same size-based cost cel-go's runtime cost tracker charges. The difference from cel-go: its
// cost counts interpretable steps (constants cost 0, field selections 1 each), ours counts AST
// nodes, so totals are close but not equal; and calls whose operands arrive asynchronously (after
// an authorizer check) are charged their node cost only.
import { forEachNode } from './ast.ts';
import { regexMatches } from './regex.ts';

/** Upstream's per-expression runtime cost limit. */
export const PER_CALL_LIMIT = 1_000_000;
/** Upstream's runtime cost budget of one policy evaluation (all its expressions together). */
export const RUNTIME_CEL_COST_BUDGET = 10_000_000;
/** Upstream's separate, smaller budget for the matchConditions of one webhook or policy binding. */
export const RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS = 2_500_000;

/** cel-go's error when one expression exceeds its limit. */
export const COST_LIMIT_EXCEEDED = 'operation cancelled: actual cost limit exceeded';
/** Upstream's error when the expressions of one evaluation together exhaust the budget. */
export const OUT_OF_BUDGET = 'validation failed due to running out of cost budget, no further validation rules will be run';

/** Thrown when the evaluation budget is exhausted; the rest of the evaluation should stop. */
export class OutOfBudgetError extends Error {
  readonly code = 'OutOfBudget';
  constructor() {
    super(OUT_OF_BUDGET);
    this.name = 'OutOfBudgetError';
  }
}

/** The cost of one program run; throws once it passes its limit. */
export class CostMeter {
  cost = 0;
  readonly limit: number;
  constructor(limit = PER_CALL_LIMIT) {
    this.limit = limit;
  }
  add(n: number): void {
    this.cost += n;
    if (this.cost > this.limit) throw new Error(COST_LIMIT_EXCEEDED);
  }
}

/** The budget several programs draw from (one policy evaluation). */
export class CostBudget {
  remaining: number;
  constructor(total = RUNTIME_CEL_COST_BUDGET) {
    this.remaining = total;
  }
  /** Takes `cost` from the budget; throws OutOfBudgetError (and empties it) when it does not fit. */
  spend(cost: number): void {
    if (cost > this.remaining) {
      this.remaining = 0;
      throw new OutOfBudgetError();
    }
    this.remaining -= cost;
  }
}

/** Activation key under which a run finds its meter; not a CEL identifier, so expressions cannot name it. */
export const METER_KEY = '@cost';

const TRAVERSAL = 0.1; // cel-go's StringTraversalCostFactor
const REGEX_LENGTH = 0.25; // cel-go's RegexStringLengthCostFactor

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  return 1;
}

const traverse = (n: number): number => Math.ceil(n * TRAVERSAL);

/** The size-based cost of a call, as cel-go's runtime cost tracker charges it (1 for the rest). */
export function callCost(name: string, args: readonly unknown[]): number {
  const [a, b] = args;
  switch (name) {
    case 'matches': return Math.ceil((1 + sizeOf(a)) * TRAVERSAL) * Math.ceil(sizeOf(b) * REGEX_LENGTH);
    case 'find': case 'findAll': return Math.ceil((1 + sizeOf(a)) * TRAVERSAL) * Math.ceil(sizeOf(b) * REGEX_LENGTH);
    case 'contains': return Math.ceil((1 + sizeOf(a)) * TRAVERSAL) * Math.ceil((1 + sizeOf(b)) * TRAVERSAL);
    case 'startsWith': case 'endsWith': return traverse(sizeOf(b));
    case 'split': case 'lowerAscii': case 'upperAscii': case 'trim': case 'replace': case 'reverse': case 'join':
    case 'indexOf': case 'lastIndexOf': case 'isSorted': case 'sum': case 'min': case 'max':
      return 1 + traverse(sizeOf(a));
    default: return 1;
  }
}

/** The size-based cost of a binary operator. */
function operatorCost(op: string, l: unknown, r: unknown): number {
  switch (op) {
    case '+':
      return typeof l === 'string' || Array.isArray(l) ? 1 + traverse(sizeOf(l) + sizeOf(r)) : 1;
    case '==': case '!=': case '<': case '<=': case '>': case '>=':
      return typeof l === 'string' || Array.isArray(l) ? 1 + traverse(Math.min(sizeOf(l), sizeOf(r))) : 1;
    case 'in':
      return Array.isArray(r) ? 1 + r.length : 1;
    default: return 1;
  }
}

/** The cel-js evaluator and AST shapes this file relies on (not part of cel-js's typings). */
interface Evaluator {
  run(ast: AstNode, ctx: EvalContext): unknown;
  [PATCHED]?: true;
}
interface EvalContext {
  getValue(key: string): unknown;
}
interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly meta: { readonly alternate?: AstNode; readonly macro?: unknown };
  handle?: (...a: unknown[]) => unknown;
  evaluate(ev: Evaluator, ast: AstNode, ctx: EvalContext): unknown;
}

const PATCHED: unique symbol = Symbol('tkube.cost');
/** The meter of the run the evaluator is in; call handlers run synchronously inside a node's run. */
let current: CostMeter | undefined;

function meterEvaluator(ev: Evaluator): void {
  if (ev[PATCHED]) return;
  const run = ev.run;
  ev.run = function meteredRun(this: Evaluator, ast: AstNode, ctx: EvalContext): unknown {
    const m = ctx.getValue(METER_KEY) as CostMeter | undefined;
    if (m) {
      current = m;
      if (ast.op !== 'value') m.add(1);
    }
    return run.call(this, ast, ctx);
  };
  ev[PATCHED] = true;
}

function hasPromise(values: readonly unknown[]): boolean {
  return values.some((v) => v instanceof Promise);
}

/** Wraps a call node's handler: charges its size-based cost, and runs matches() on the bounded engine. */
function wrapCall(node: AstNode, name: string): void {
  const original = node.handle;
  if (!original) return;
  node.handle = function meteredCall(this: unknown, ...a: unknown[]): unknown {
    const values = a[0];
    const m = current;
    if (m && Array.isArray(values) && !hasPromise(values)) {
      m.add(callCost(name, values) - 1);
      if (name === 'matches' && values.length === 2 && typeof values[0] === 'string' && typeof values[1] === 'string') {
        return regexMatches(values[0], values[1]);
      }
    }
    return original.apply(this, a);
  };
}

function wrapOperator(node: AstNode): void {
  const original = node.handle;
  if (!original) return;
  const op = node.op;
  node.handle = function meteredOperator(this: unknown, ...a: unknown[]): unknown {
    const m = current;
    if (m && !(a[0] instanceof Promise) && !(a[1] instanceof Promise)) m.add(operatorCost(op, a[0], a[1]) - 1);
    return original.apply(this, a);
  };
}

const SIZED_OPERATORS = new Set(['+', '==', '!=', '<', '<=', '>', '>=', 'in']);

/** Wraps the call and operator handlers of a checked AST (once) and hooks its evaluator on first run. */
export function instrument(root: AstNode): void {
  forEachNode(root, (node) => {
    const x = node as AstNode;
    if (x.op === 'rcall' || x.op === 'call') wrapCall(x, String((x.args as unknown[])[0]));
    else if (SIZED_OPERATORS.has(x.op)) wrapOperator(x);
  });
  const proto = Object.getPrototypeOf(root) as AstNode;
  // The first run hands us the environment's evaluator; hook it, then let the node run as always.
  (root as { evaluate: AstNode['evaluate'] }).evaluate = function firstRun(this: AstNode, ev, ast, ctx) {
    meterEvaluator(ev);
    return proto.evaluate.call(this, ev, ast, ctx);
  };
}

/**
 * Runs `evaluate` with `meter` visible to the program and charges nothing: the caller reads
 * meter.cost once the run settles and charges its own budget (upstream's filters do).
 */
export function meteredBy(meter: CostMeter, activation: Readonly<Record<string, unknown>>, evaluate: (activation: Record<string, unknown>) => unknown): unknown {
  const withMeter = Object.create(activation) as Record<string, unknown>;
  Object.defineProperty(withMeter, METER_KEY, { value: meter, enumerable: false });
  const previous = current;
  current = meter;
  try {
    return evaluate(withMeter);
  } finally {
    current = previous;
  }
}
