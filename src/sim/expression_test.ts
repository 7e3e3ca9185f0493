// Tests of the stage expression language: paths, filters, variables, functions and error positions.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, ExpressionError } from './expression.ts';

const pod = {
  metadata: { name: 'p', annotations: { 'sim.tkube.io/complete-after': '2s' } },
  spec: {
    containers: [
      { name: 'a', image: 'nginx:1.27', readinessProbe: { initialDelaySeconds: 5 } },
      { name: 'b', image: 'busybox' },
      { name: 'c', image: 'x', readinessProbe: { initialDelaySeconds: 7 } },
    ],
  },
  status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }], podIP: null },
};

function ev(text: string, vars: Record<string, unknown> = {}): unknown {
  return compileExpression(text)({ root: pod, vars });
}

describe('stage expressions', () => {
  test('paths read fields, quoted keys, and absent fields as undefined (null counts as absent)', () => {
    assert.equal(ev('.metadata.name'), 'p');
    assert.equal(ev(".metadata.annotations['sim.tkube.io/complete-after']"), '2s');
    assert.equal(ev('.spec.nodeName'), undefined);
    assert.equal(ev('.status.podIP'), undefined);
    assert.equal(ev('.'), pod);
  });

  test('[] and filters make lists; first() and len() read them', () => {
    assert.deepEqual(ev('.spec.containers[].name'), ['a', 'b', 'c']);
    assert.deepEqual(ev('.spec.containers[readinessProbe].name'), ['a', 'c']);
    assert.deepEqual(ev('.status.conditions[type=Ready].status'), ['False']);
    assert.equal(ev("first(.status.conditions[type='PodScheduled'].status)"), 'True');
    assert.equal(ev('len(.status.conditions[type=Missing])'), 0);
    assert.equal(ev('max(.spec.containers[].readinessProbe.initialDelaySeconds)'), 7);
  });

  test('variables, literals and lazy functions', () => {
    assert.equal(ev('node.ip', { node: { ip: '10.0.0.1' } }), '10.0.0.1');
    let touched = false;
    const vars = Object.defineProperty({}, 'podIP', { get: () => { touched = true; return '1.2.3.4'; } });
    assert.equal(ev("if(true, 'host', podIP)", vars), 'host');
    assert.equal(touched, false, 'the branch not taken is never evaluated');
    assert.equal(ev('default(.spec.nodeName, options.x, 3)', { options: {} }), 3);
    assert.equal(ev('and(exists(.metadata), not(.spec.hostNetwork))'), true);
    assert.equal(ev("eq(.metadata.name, 'p')"), true);
    assert.equal(ev("join(.spec.containers[].name, ' ')"), 'a b c');
    assert.equal(ev('add(1, 2, -0.5)'), 2.5);
  });

  test('hash is stable and imageID drops the tag', () => {
    assert.equal(ev("hash('a', 'b')"), ev("hash('a', 'b')"));
    assert.notEqual(ev("hash('a', 'b')"), ev("hash('ab')"));
    assert.match(String(ev("imageID('registry:5000/team/app:2.1')")), /^registry:5000\/team\/app@sha256:[0-9a-f]{64}$/);
  });

  test('errors name the text and the position', () => {
    assert.throws(() => compileExpression('.spec..x'), (e: unknown) => e instanceof ExpressionError && e.message === 'expression ".spec..x" at 6: expected a field name after "."');
    assert.throws(() => compileExpression('nope(1)'), { message: 'expression "nope(1)" at 0: unknown function "nope"' });
    assert.throws(() => compileExpression("'open"), /unterminated string/);
    assert.throws(() => compileExpression(".a 'b'"), /unexpected text after the expression/);
  });
});
