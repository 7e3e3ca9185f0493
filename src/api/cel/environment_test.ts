// Unit tests of the admission CEL environment: JSON values as CEL values, the Kubernetes
// libraries (lists, regex, strings, quantity, url, authz), and compile/evaluation error texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluationErrorText, type ExpressionOptions } from './environment.ts';
import { CelAuthorizer, type AuthzCheck } from './authorizer.ts';
import { CostMeter } from './cost.ts';
import { fromCel, toCel } from './values.ts';

const OPTS: ExpressionOptions = { hasParams: true, hasAuthorizer: true };

async function run(expr: string, activation: Record<string, unknown> = {}, opts: ExpressionOptions = OPTS): Promise<unknown> {
  const c = compileExpression(expr, 'any', opts);
  assert.equal(c.error, undefined, c.error?.detail);
  const base = { object: null, oldObject: null, request: null, namespaceObject: null, params: null };
  return fromCel(await c.program!({ ...base, ...activation }, new CostMeter()));
}

describe('admission CEL environment', () => {
  test('JSON integers become CEL ints, so arithmetic and comparisons work', async () => {
    const object = toCel({ spec: { replicas: 3, ratio: 0.5, containers: [{ name: 'a' }, { name: 'b' }] } });
    assert.equal(await run('object.spec.replicas <= 5 && object.spec.replicas + 1 == 4', { object }), true);
    assert.equal(await run('object.spec.ratio < 1.0', { object }), true);
    assert.equal(await run("object.spec.containers.all(c, c.name.size() == 1) && object.spec.containers.exists(c, c.name == 'b')", { object }), true);
    assert.equal(await run('has(object.spec.missing)', { object }), false);
    assert.deepEqual(await run('object.spec.containers.map(c, c.name)', { object }), ['a', 'b']);
  });

  test('Kubernetes list, regex, string, quantity and url functions', async () => {
    assert.equal(await run('[1, 2, 3].isSorted() && [3, 1].isSorted() == false'), true);
    assert.equal(await run('[1, 2, 3].sum()'), 6);
    assert.equal(await run('[4, 2, 9].min() == 2 && [4, 2, 9].max() == 9'), true);
    assert.equal(await run("['a', 'b', 'a'].indexOf('a') == 0 && ['a', 'b', 'a'].lastIndexOf('a') == 2"), true);
    assert.equal(await run("'abc 123 def 456'.find('[0-9]+')"), '123');
    assert.deepEqual(await run("'abc 123 def 456'.findAll('[0-9]+')"), ['123', '456']);
    assert.equal(await run("'hello'.charAt(1) + 'banana'.replace('a', 'o', 2) + 'ab'.reverse()"), 'ebonona' + 'ba');
    assert.equal(await run("quantity('1Gi').isGreaterThan(quantity('512Mi')) && quantity('500m').isLessThan(quantity('1'))"), true);
    assert.equal(await run("quantity('1.5').isInteger() == false && quantity('2k').asInteger() == 2000"), true);
    assert.equal(await run("quantity('1Gi').add(quantity('1Gi')).compareTo(quantity('2Gi')) == 0 && isQuantity('1x') == false"), true);
    assert.equal(await run("url('https://example.com:8443/a/b?x=1').getHostname() + url('https://example.com:8443/').getPort()"), 'example.com8443');
    assert.equal(await run("isURL('https://a.b/c') && !isURL('not a url')"), true);
  });

  test('the authorizer asks the callback and answers with a decision', async () => {
    const asked: AuthzCheck[] = [];
    const authorizer = new CelAuthorizer((c) => {
      asked.push(c);
      return { decision: c.resource === 'deployments' ? 'allow' : 'deny', reason: 'test' };
    }, { requestResource: { group: '', resource: 'pods', subresource: '', namespace: 'ns', name: 'p' } });
    assert.equal(await run("authorizer.group('apps').resource('deployments').namespace('ns').check('get').allowed()", { authorizer }), true);
    assert.equal(await run("authorizer.requestResource.check('delete').allowed()", { authorizer }), false);
    assert.equal(await run("authorizer.serviceAccount('ns', 'sa').path('/healthz').check('get').reason()", { authorizer }), 'test');
    assert.deepEqual(asked[0], { group: 'apps', resource: 'deployments', subresource: '', namespace: 'ns', name: '', serviceAccount: undefined, verb: 'get' });
    assert.equal(asked[1]?.resource, 'pods');
    assert.deepEqual(asked[2]?.serviceAccount, { namespace: 'ns', name: 'sa' });
    assert.equal(asked[2]?.path, '/healthz');
  });

  test('compile errors read as cel-go issues and return types are checked', () => {
    const undeclared = compileExpression('params.x == 1', 'bool', { hasParams: false, hasAuthorizer: true });
    assert.deepEqual(undeclared.error, {
      type: 'Invalid',
      detail: "compilation failed: ERROR: <input>:1:1: undeclared reference to 'params' (in container '')\n | params.x == 1\n | ^",
    });
    const syntax = compileExpression('object.spec ==', 'bool', OPTS);
    assert.match(syntax.error?.detail ?? '', /^compilation failed: ERROR: <input>:1:15: Syntax error: /);
    assert.deepEqual(compileExpression("'a' + 'b'", 'bool', OPTS).error, { type: 'Invalid', detail: 'must evaluate to bool' });
    assert.deepEqual(compileExpression('1 == 1', 'string', OPTS).error, { type: 'Invalid', detail: 'must evaluate to string' });
    assert.equal(compileExpression('object.spec.paused', 'bool', OPTS).error, undefined, 'dyn results are checked at run time');
    assert.deepEqual(compileExpression('   ', 'bool', OPTS).error, { type: 'Required', detail: 'expression is not specified' });
    assert.ok(compileExpression('variables.x', 'any', OPTS).error, 'variables needs a policy with variables');
    assert.equal(compileExpression('variables.x', 'any', { ...OPTS, hasVariables: true }).error, undefined);
  });

  test('evaluation errors are worded as cel-go words them', async () => {
    const c = compileExpression('object.spec.nope == 1', 'bool', OPTS);
    await assert.rejects(async () => c.program!({ object: toCel({ spec: {} }) }, new CostMeter()), (e: unknown) => {
      assert.equal(evaluationErrorText(e), 'no such key: nope');
      return true;
    });
  });

  test('null joins a ternary whose other branch cel-go holds nullable; the documented example compiles written with dyn()', async () => {
    const object = toCel({ spec: { replicas: 60, memory: '1Gi' } });
    assert.equal(await run("has(object.spec.cpu) ? quantity(object.spec.cpu) : null", { object }), null);
    assert.equal(await run("(has(object.spec.memory) ? quantity(object.spec.memory) : null).isInteger()", { object }), true);
    assert.equal(await run("false ? duration('1s') : null"), null);
    assert.equal(await run('object.spec.replicas > 50 ? object.spec.replicas : null', { object }), 60, 'a dyn branch unifies with null');
    // cel-go types `c ? null : T` as null (its type parameter keeps the first binding)
    assert.equal(compileExpression("true ? null : timestamp('2024-01-01T00:00:00Z')", 'string|null', OPTS).error, undefined);
    assert.deepEqual(compileExpression("true ? quantity('1') : null", 'string|null', OPTS).error, { type: 'Invalid', detail: 'must evaluate to one of [string null_type]' });
    const documented = "object.spec.replicas > 50 ? dyn('Deployment spec.replicas set to ' + string(object.spec.replicas)) : null";
    const c = compileExpression(documented, 'string|null', OPTS);
    assert.equal(c.error, undefined, c.error?.detail);
    const base = { object: null, oldObject: null, request: null, namespaceObject: null, params: null };
    assert.equal(c.program!({ ...base, object }, new CostMeter()), 'Deployment spec.replicas set to 60');
    assert.equal(c.program!({ ...base, object: toCel({ spec: { replicas: 3 } }) }, new CostMeter()), null);
  });

  test('ternaries cel-go refuses stay refused, in its words: a string, list or map branch is not nullable', () => {
    // The example of upstream's auditAnnotations documentation: cel-go's checker has no nullable string.
    const documented = "object.spec.replicas > 50 ? 'Deployment spec.replicas set to ' + string(object.spec.replicas) : null";
    assert.deepEqual(compileExpression(documented, 'string|null', OPTS).error, {
      type: 'Invalid',
      detail: "compilation failed: ERROR: <input>:1:27: found no matching overload for '_?_:_' applied to '(bool, string, null)'\n"
        + ` | ${documented}\n | ${'.'.repeat(26)}^`,
    });
    const refused = (expr: string): string => (compileExpression(expr, 'any', OPTS).error?.detail ?? 'compiled').split('\n')[0]!;
    assert.equal(refused('true ? [1] : null'), "compilation failed: ERROR: <input>:1:6: found no matching overload for '_?_:_' applied to '(bool, list(int), null)'");
    assert.equal(refused("(1 == 1) ? {'a': [1]} : 'x'"),
      "compilation failed: ERROR: <input>:1:10: found no matching overload for '_?_:_' applied to '(bool, map(string, list(int)), string)'");
    assert.equal(refused("object.x ? 1 : 'a'"), "compilation failed: ERROR: <input>:1:10: found no matching overload for '_?_:_' applied to '(dyn, int, string)'");
    assert.equal(refused("1 ? 'a' : 'b'"), "compilation failed: ERROR: <input>:1:3: found no matching overload for '_?_:_' applied to '(int, string, string)'");
    assert.equal(refused("[1, 2].map(x, x > 1 ? 'a' : null)"),
      "compilation failed: ERROR: <input>:1:21: found no matching overload for '_?_:_' applied to '(bool, string, null)'");
  });
});
