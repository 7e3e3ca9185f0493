// Unit tests of CEL runtime cost limits: a per-expression limit that cancels runaway
// comprehensions, a budget shared by the runs of one activation, size-based call costs, and
// regular expressions whose running time stays bounded.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluationErrorText, type ExpressionOptions } from './environment.ts';
import {
  COST_LIMIT_EXCEEDED, CostMeter, OUT_OF_BUDGET, OutOfBudgetError, RUNTIME_CEL_COST_BUDGET, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS, budgetOf, callCost,
  CostBudget, PER_CALL_LIMIT, setBudget,
} from './cost.ts';
import { regexFindAll, regexMatches } from './regex.ts';
import { toCel } from './values.ts';

const OPTS: ExpressionOptions = { hasParams: false, hasAuthorizer: false };
const base = (): Record<string, unknown> => ({ object: null, oldObject: null, request: null, namespaceObject: null });

function program(expr: string): (a: Readonly<Record<string, unknown>>, meter?: CostMeter) => unknown {
  const c = compileExpression(expr, 'any', OPTS);
  assert.equal(c.error, undefined, c.error?.detail);
  return c.program!;
}

/** The cost one run of `expr` charges to a fresh budget. */
function costOf(expr: string, activation: Record<string, unknown> = base()): number {
  program(expr)(activation);
  return RUNTIME_CEL_COST_BUDGET - budgetOf(activation).remaining;
}

describe('CEL runtime cost', () => {
  test('cost grows with the work done: comprehension steps and operand sizes', () => {
    const small = costOf('object.items.all(x, x > 0)', { ...base(), object: toCel({ items: [1, 2, 3] }) });
    const large = costOf('object.items.all(x, x > 0)', { ...base(), object: toCel({ items: Array.from({ length: 300 }, (_, i) => i + 1) }) });
    assert.ok(large > small * 50, `${small} vs ${large}`);
    assert.ok(costOf("object.s.contains('x')", { ...base(), object: toCel({ s: 'a'.repeat(10_000) }) }) > 100);
    assert.equal(callCost('matches', ['a'.repeat(99), '[a-z]+']), 10 * 2);
  });

  test('an expression past the per-call limit is cancelled with cel-go\'s error', () => {
    const run = program('[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, [0,1,2,3,4,5,6,7,8,9].all(d, [0,1,2,3,4,5,6,7,8,9].all(e, a + b + c + d + e >= 0)))))');
    const activation = base();
    assert.throws(() => run(activation), (err: Error) => evaluationErrorText(err) === COST_LIMIT_EXCEEDED);
    assert.ok(RUNTIME_CEL_COST_BUDGET - budgetOf(activation).remaining > PER_CALL_LIMIT, 'the cancelled run is charged what it spent');
  });

  test('runs sharing an activation draw from one budget and stop once it is spent', () => {
    const heavy = program('[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, a + b + c >= 0)))');
    const activation = base();
    const perRun = costOf('[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, a + b + c >= 0)))');
    // the default budget is RUNTIME_CEL_COST_BUDGET; a smaller one keeps the test fast
    setBudget(activation, new CostBudget(perRun * 10.5));
    let runs = 0;
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      try {
        assert.equal(heavy(activation), true);
        runs++;
      } catch (err) {
        failure = err;
      }
    }
    assert.ok(failure instanceof OutOfBudgetError, String(failure));
    assert.equal((failure as Error).message, OUT_OF_BUDGET);
    assert.equal(runs, 10);
    // a fresh activation (the next policy evaluation) has a fresh budget
    assert.equal(heavy(base()), true);
  });

  test('a run given its own meter charges no budget: the caller accounts for meter.cost', () => {
    const run = program('[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, a + b >= 0))');
    const activation = base();
    const meter = new CostMeter();
    assert.equal(run(activation, meter), true);
    assert.equal(budgetOf(activation).remaining, RUNTIME_CEL_COST_BUDGET);
    assert.equal(meter.cost, costOf('[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, a + b >= 0))'));
    assert.ok(meter.cost > 100);
  });

  test('a budget spends what fits and refuses, emptied, what does not', () => {
    const b = new CostBudget(10);
    b.spend(10);
    assert.equal(b.remaining, 0);
    b.spend(0);
    assert.throws(() => b.spend(1), (e: unknown) => e instanceof OutOfBudgetError && e.message === OUT_OF_BUDGET);
    const c = new CostBudget(RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS);
    assert.throws(() => c.spend(RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS + 1), OutOfBudgetError);
    assert.equal(c.remaining, 0);
  });

  test('a meter counts and stops at its limit', () => {
    const m = new CostMeter(10);
    m.add(10);
    assert.throws(() => m.add(1), { message: COST_LIMIT_EXCEEDED });
  });
});

describe('bounded regular expressions', () => {
  test('catastrophic backtracking patterns finish quickly', () => {
    const started = process.hrtime.bigint();
    assert.equal(regexMatches(`${'a'.repeat(5000)}b`, '^(a+)+$'), false);
    assert.equal(regexMatches(`${'a'.repeat(5000)}b`, '^(a|aa)*$'), false);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });

  test('a pattern the linear engine refuses runs under a deadline and is cancelled when it runs away', () => {
    assert.equal(regexMatches('my-name', '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'), true);
    const started = process.hrtime.bigint();
    assert.throws(() => regexMatches(`${'a'.repeat(40)}b`, '^(a{1,30})+$'), { message: COST_LIMIT_EXCEEDED });
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });

  test('RE2 has no backreferences or lookaround', () => {
    assert.throws(() => regexMatches('aa', '(a)\\1'), { message: 'error parsing regexp: invalid escape sequence: `\\1`' });
    assert.throws(() => regexMatches('aa', 'a(?=a)'), { message: 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`' });
  });

  test('findAll returns every match, empty ones included, as Go does', () => {
    assert.deepEqual(regexFindAll('a1b22c333', '[0-9]+', -1n), ['1', '22', '333']);
    assert.deepEqual(regexFindAll('abc', 'x*', -1n), ['', '', '', '']);
    assert.deepEqual(regexFindAll('a1b22c333', '[0-9]+', 2n), ['1', '22']);
  });

  test('matches() in an expression uses the bounded engine', () => {
    const run = program("object.s.matches('^(a+)+$')");
    const started = process.hrtime.bigint();
    assert.equal(run({ ...base(), object: toCel({ s: `${'a'.repeat(3000)}b` }) }), false);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });
});
