// Unit tests of one policy evaluation's runtime cost budgets, as upstream splits them: matchConditions
// alone, validations then messageExpressions on what is left, auditAnnotations afresh, variables
// charged at their first read in each pass; and the messages of errors and spent budgets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CostMeter, OUT_OF_BUDGET } from '../../../api/cel/cost.ts';
import { compileExpression, type ExpressionOptions, type ReturnTypes } from '../../../api/cel/environment.ts';
import { toCel } from '../../../api/cel/values.ts';
import { ExpressionFilter } from '../cel/filter.ts';
import { ComposedVariables } from './composition.ts';
import type { CompiledPolicy } from './source.ts';
import { validate } from './validator.ts';

const TEN = '[0,1,2,3,4,5,6,7,8,9]';
/** An expression that costs a few hundred units and is true. */
const HEAVY = `${TEN}.all(a, ${TEN}.all(b, a + b >= 0))`;

interface Spec {
  failurePolicy?: string;
  matchConditions?: string[];
  variables?: [string, string][];
  validations?: { expression: string; message?: string; messageExpression?: string }[];
  auditAnnotations?: [string, string][];
}

function compiledPolicy(spec: Spec): CompiledPolicy {
  const opts: ExpressionOptions = { hasParams: false, hasAuthorizer: true, hasVariables: (spec.variables ?? []).length > 0 };
  return {
    name: 'p', failurePolicy: spec.failurePolicy ?? 'Fail', paramKind: undefined, paramResource: undefined, configurationError: undefined,
    matchConstraints: {} as CompiledPolicy['matchConstraints'],
    matchConditions: (spec.matchConditions ?? []).map((e, i) => ({ name: `m${i}`, compiled: compileExpression(e, 'bool', { hasParams: false, hasAuthorizer: true }) })),
    variables: (spec.variables ?? []).map(([name, e]) => ({ name, compiled: compileExpression(e, 'any', opts) })),
    validations: (spec.validations ?? []).map((v) => ({
      expression: compileExpression(v.expression, 'bool', opts),
      messageExpression: v.messageExpression ? compileExpression(v.messageExpression, 'string', { ...opts, hasAuthorizer: false }) : undefined,
      message: v.message ?? '',
      reason: undefined,
    })),
    auditAnnotations: (spec.auditAnnotations ?? []).map(([key, e]) => ({ key, compiled: compileExpression(e, 'string|null', opts) })),
  };
}

function activation(object: unknown = { spec: { replicas: 3 } }): Record<string, unknown> {
  return { object: toCel(object), oldObject: null, request: null, params: null, namespaceObject: null };
}

/** What one run of `expr` costs on its own (variables given as plain values cost nothing to read). */
function costOf(expr: string, returns: ReturnTypes = 'any', variables?: Record<string, unknown>): number {
  const c = compileExpression(expr, returns, { hasParams: false, hasAuthorizer: true, hasVariables: variables !== undefined });
  assert.equal(c.error, undefined, c.error?.detail);
  const meter = new CostMeter();
  c.program!({ ...activation(), ...(variables ? { variables } : {}) }, meter);
  return meter.cost;
}

const heavy = costOf(HEAVY);
const outOfBudget = { action: 'deny', evaluation: 'error', message: OUT_OF_BUDGET } as const;

describe('policy evaluation budgets', () => {
  test('validations share one budget; once it is spent the evaluation stops with that error alone', async () => {
    assert.ok(heavy > 100, `${heavy}`);
    const p = compiledPolicy({ validations: [{ expression: HEAVY }, { expression: HEAVY }, { expression: HEAVY }, { expression: 'false' }] });
    assert.deepEqual((await validate(p, activation(), { budget: Math.floor(2.5 * heavy) })).decisions, [outOfBudget]);
    const ignored = compiledPolicy({ failurePolicy: 'Ignore', validations: [{ expression: HEAVY }, { expression: HEAVY }, { expression: HEAVY }] });
    assert.deepEqual((await validate(ignored, activation(), { budget: Math.floor(2.5 * heavy) })).decisions,
      [{ ...outOfBudget, action: 'admit' }]);
    const enough = await validate(p, activation(), { budget: 3 * heavy + costOf('false') });
    assert.deepEqual(enough.decisions.map((d) => d.message), ['', '', '', 'failed expression: false']);
  });

  test('matchConditions have a budget of their own, and all of them run before any false one skips', async () => {
    const both = compiledPolicy({ matchConditions: [HEAVY], validations: [{ expression: HEAVY }] });
    const fits = Math.floor(1.5 * heavy);
    assert.deepEqual((await validate(both, activation(), { budget: fits, matchConditionsBudget: fits })).decisions,
      [{ action: 'admit', evaluation: 'admit', message: '' }]);
    const costly = { matchConditions: ['false', HEAVY, HEAVY], validations: [{ expression: 'false' }] };
    assert.deepEqual((await validate(compiledPolicy(costly), activation(), { matchConditionsBudget: fits })).decisions, [outOfBudget]);
    const ignored = await validate(compiledPolicy({ ...costly, failurePolicy: 'Ignore' }), activation(), { matchConditionsBudget: fits });
    assert.deepEqual(ignored.decisions, []);
    assert.deepEqual((await validate(compiledPolicy(costly), activation(), { matchConditionsBudget: 3 * heavy })).decisions, [], 'false skips');
  });

  test('messageExpressions run on what the validations left; running out makes every decision that error', async () => {
    const spec = { validations: [{ expression: HEAVY }, { expression: 'false', messageExpression: `'heavy: ' + string(${HEAVY})` }] };
    const own = heavy + costOf('false');
    const message = costOf(`'heavy: ' + string(${HEAVY})`);
    // The whole budget would hold the messageExpression; what the validations left does not.
    const spent = await validate(compiledPolicy(spec), activation(), { budget: own + message - 1 });
    const failure = { action: 'deny', evaluation: 'error', message: `failed messageExpression: ${OUT_OF_BUDGET}` };
    assert.deepEqual(spent.decisions, [failure, failure]);
    const enough = await validate(compiledPolicy(spec), activation(), { budget: own + message });
    assert.deepEqual(enough.decisions.map((d) => d.message), ['', 'heavy: true']);
  });

  test('auditAnnotations get a fresh budget; running out drops the decisions for that error alone', async () => {
    const budget = Math.floor(1.5 * heavy);
    const one = await validate(compiledPolicy({ validations: [{ expression: HEAVY }], auditAnnotations: [['k', `string(${HEAVY})`]] }), activation(), { budget });
    assert.deepEqual(one.decisions, [{ action: 'admit', evaluation: 'admit', message: '' }]);
    assert.deepEqual(one.auditAnnotations, [{ key: 'k', value: 'true' }]);
    const two = await validate(compiledPolicy({
      validations: [{ expression: 'false' }], auditAnnotations: [['a', `string(${HEAVY})`], ['b', `string(${HEAVY})`]],
    }), activation(), { budget });
    assert.deepEqual(two, { decisions: [outOfBudget], auditAnnotations: [], auditAnnotationErrors: [] });
  });

  test('a variable is charged to a pass at its first read there, with the variables it read, and again in the next pass', async () => {
    const p = compiledPolicy({ variables: [['a', HEAVY], ['b', 'variables.a && true']], validations: [{ expression: 'variables.b' }, { expression: 'variables.a' }] });
    const vars = await ComposedVariables.evaluate(p.variables, activation());
    const a = heavy, b = costOf('variables.a && true', 'any', { a: true });
    const readB = costOf('variables.b', 'bool', { b: true }), readA = costOf('variables.a', 'bool', { a: true });
    const first = new ExpressionFilter(activation(), 100_000, vars.scope());
    assert.deepEqual(await first.evaluate(p.validations[0]!.expression), { value: true });
    assert.equal(100_000 - first.remaining, a + b + readB);
    assert.deepEqual(await first.evaluate(p.validations[1]!.expression), { value: true });
    assert.equal(100_000 - first.remaining, a + b + readB + readA, 'a was already read in this pass');
    const next = new ExpressionFilter(activation(), 100_000, vars.scope());
    await next.evaluate(p.validations[1]!.expression);
    assert.equal(100_000 - next.remaining, a + readA);
    // so a budget that holds the variable once but not twice fails in the messages pass
    const policy = compiledPolicy({ variables: [['v', HEAVY]], validations: [{ expression: '!variables.v', messageExpression: "'v is ' + string(variables.v)" }] });
    const budget = heavy + costOf('!variables.v', 'bool', { v: true }) + costOf("'v is ' + string(variables.v)", 'string', { v: true });
    assert.equal((await validate(policy, activation(), { budget })).decisions[0]!.message, `failed messageExpression: ${OUT_OF_BUDGET}`);
    assert.equal((await validate(policy, activation(), { budget: budget + heavy })).decisions[0]!.message, 'v is true');
  });
});

describe('policy evaluation messages', () => {
  test("a variable's error fails the expression reading it, in upstream's words", async () => {
    const p = compiledPolicy({ variables: [['x', 'object.nope'], ['y', 'variables.x + 1']], validations: [{ expression: 'variables.y == 1' }, { expression: 'true' }] });
    const r = await validate(p, activation());
    assert.deepEqual(r.decisions, [
      {
        action: 'deny', evaluation: 'error',
        message: "expression 'variables.y == 1' resulted in error: composited variable \"y\" fails to evaluate: composited variable \"x\" fails to evaluate: no such key: nope",
      },
      { action: 'admit', evaluation: 'admit', message: '' },
    ]);
  });

  test('a messageExpression that errors or is not a string falls back to the message, then to the expression', async () => {
    const p = compiledPolicy({
      validations: [
        { expression: 'false', messageExpression: 'object.nope', message: ' static ' },
        { expression: 'false', messageExpression: 'object.nope' },
        { expression: 'false', messageExpression: 'object.spec.replicas', message: 'not a string' },
        { expression: 'false', messageExpression: "'line\\none'", message: 'multi-line' },
        { expression: 'object.spec.replicas < 2', messageExpression: "'replicas: ' + string(object.spec.replicas)" },
      ],
    });
    assert.deepEqual((await validate(p, activation())).decisions.map((d) => [d.evaluation, d.message]), [
      ['deny', 'static'], ['deny', 'failed expression: false'], ['deny', 'not a string'], ['deny', 'multi-line'], ['deny', 'replicas: 3'],
    ]);
  });

  test('auditAnnotations: null and blank values are omitted, other types are errors named as cel-go names them', async () => {
    const p = compiledPolicy({
      auditAnnotations: [
        ['high', "object.spec.replicas > 2 ? dyn('replicas: ' + string(object.spec.replicas)) : null"],
        ['low', "object.spec.replicas < 2 ? dyn('few') : null"],
        ['blank', "' '"],
        ['number', 'object.spec.replicas'],
      ],
    });
    const r = await validate(p, activation());
    assert.deepEqual(r.auditAnnotations, [{ key: 'high', value: 'replicas: 3' }]);
    assert.deepEqual(r.auditAnnotationErrors, ["valueExpression 'object.spec.replicas' resulted in unsupported return type: int. Return type must be either string or null."]);
  });
});
