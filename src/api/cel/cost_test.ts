// Unit tests of CEL runtime cost limits: a per-expression limit that cancels runaway
// comprehensions, a budget several runs are charged to, size-based call costs, and regular
// expressions whose running time stays bounded.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluationErrorText, type ExpressionOptions, type Program } from './environment.ts';
import {
  COST_LIMIT_EXCEEDED, CostMeter, OUT_OF_BUDGET, OutOfBudgetError, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS, callCost,
  CostBudget, PER_CALL_LIMIT,
} from './cost.ts';
import { regexFindAll, regexMatches } from './regex.ts';
import { toCel } from './values.ts';

const OPTS: ExpressionOptions = { hasParams: false, hasAuthorizer: false };
const base = (): Record<string, unknown> => ({ object: null, oldObject: null, request: null, namespaceObject: null });
const TEN = '[0,1,2,3,4,5,6,7,8,9]';

function program(expr: string): Program {
  const c = compileExpression(expr, 'any', OPTS);
  assert.equal(c.error, undefined, c.error?.detail);
  return c.program!;
}

/** The cost of one run of `expr`. */
function costOf(expr: string, activation: Record<string, unknown> = base()): number {
  const meter = new CostMeter();
  program(expr)(activation, meter);
  return meter.cost;
}

describe('CEL runtime cost', () => {
  test('cost grows with the work done: comprehension steps and operand sizes', () => {
    const small = costOf('object.items.all(x, x > 0)', { ...base(), object: toCel({ items: [1, 2, 3] }) });
    const large = costOf('object.items.all(x, x > 0)', { ...base(), object: toCel({ items: Array.from({ length: 300 }, (_, i) => i + 1) }) });
    assert.ok(large > small * 50, `${small} vs ${large}`);
    assert.ok(costOf("object.s.contains('x')", { ...base(), object: toCel({ s: 'a'.repeat(10_000) }) }) > 100);
    assert.ok(costOf(`${TEN}.all(a, ${TEN}.all(b, a + b >= 0))`) > 100);
    assert.equal(callCost('matches', ['a'.repeat(99), '[a-z]+']), 10 * 2);
  });

  test('an expression past the per-call limit is cancelled with cel-go\'s error', () => {
    const run = program(`${TEN}.all(a, ${TEN}.all(b, ${TEN}.all(c, ${TEN}.all(d, ${TEN}.all(e, a + b + c + d + e >= 0)))))`);
    const meter = new CostMeter();
    assert.throws(() => run(base(), meter), (err: Error) => evaluationErrorText(err) === COST_LIMIT_EXCEEDED);
    assert.ok(meter.cost > PER_CALL_LIMIT, 'the meter holds what the cancelled run spent');
  });

  test('runs charged to one budget stop once it is spent', () => {
    const expr = `${TEN}.all(a, ${TEN}.all(b, ${TEN}.all(c, a + b + c >= 0)))`;
    const heavy = program(expr);
    const perRun = costOf(expr);
    // upstream's budgets are millions; a small one keeps the test fast
    const budget = new CostBudget(perRun * 10.5);
    let runs = 0;
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      const meter = new CostMeter();
      assert.equal(heavy(base(), meter), true);
      try {
        budget.spend(meter.cost);
        runs++;
      } catch (err) {
        failure = err;
      }
    }
    assert.ok(failure instanceof OutOfBudgetError, String(failure));
    assert.equal((failure as Error).message, OUT_OF_BUDGET);
    assert.equal(runs, 10);
    assert.equal(budget.remaining, 0);
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
    assert.equal(run({ ...base(), object: toCel({ s: `${'a'.repeat(3000)}b` }) }, new CostMeter()), false);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });
});
