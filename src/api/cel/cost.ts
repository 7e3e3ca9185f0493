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

function isNode(x: unknown): x is AstNode {
  return typeof x === 'object' && x !== null && typeof (x as AstNode).op === 'string' && typeof (x as AstNode).evaluate === 'function';
}

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
  const seen = new Set<unknown>();
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    if (!isNode(x)) {
      for (const y of Object.values(x)) visit(y);
      return;
    }
    if (x.op === 'rcall' || x.op === 'call') {
      const args = x.args as unknown[];
      wrapCall(x, String(args[0]));
    } else if (SIZED_OPERATORS.has(x.op)) {
      wrapOperator(x);
    }
    visit(x.args);
    visit(x.meta.alternate);
    visit(x.meta.macro);
  };
  visit(root);
  const proto = Object.getPrototypeOf(root) as AstNode;
  // The first run hands us the environment's evaluator; hook it, then let the node run as always.
  (root as { evaluate: AstNode['evaluate'] }).evaluate = function firstRun(this: AstNode, ev, ast, ctx) {
    meterEvaluator(ev);
    return proto.evaluate.call(this, ev, ast, ctx);
  };
}

/** The budget of an activation (one policy evaluation shares one activation object). */
const budgets = new WeakMap<object, CostBudget>();

/** The budget the runs with this activation draw from. */
export function budgetOf(activation: object): CostBudget {
  let b = budgets.get(activation);
  if (!b) {
    b = new CostBudget();
    budgets.set(activation, b);
  }
  return b;
}

/** Gives the runs with this activation a budget of their own (tests: a small one). */
export function setBudget(activation: object, budget: CostBudget): void {
  budgets.set(activation, budget);
}

/** Charges a finished run to its budget; throws OutOfBudgetError when it does not fit (as upstream, before any evaluation error). */
export function charge(budget: CostBudget, meter: CostMeter): void {
  budget.spend(meter.cost);
}

/**
 * Runs `evaluate` with `meter` visible to the program and charges nothing: the caller reads
 * meter.cost once the run settles and does its own budget accounting (upstream's filters do).
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

/**
 * Runs `evaluate` with a fresh meter visible to the program, then charges the budget. Programs
 * that finish asynchronously are charged when they settle.
 */
export function metered(activation: Readonly<Record<string, unknown>>, evaluate: (activation: Record<string, unknown>) => unknown, budget = budgetOf(activation)): unknown {
  if (budget.remaining <= 0) throw new OutOfBudgetError();
  const meter = new CostMeter();
  let result: unknown;
  try {
    result = meteredBy(meter, activation, evaluate);
  } catch (err) {
    charge(budget, meter);
    throw err;
  }
  if (result instanceof Promise) {
    return result.then((v) => {
      charge(budget, meter);
      return v;
    }, (err: unknown) => {
      charge(budget, meter);
      throw err;
    });
  }
  charge(budget, meter);
  return result;
}
