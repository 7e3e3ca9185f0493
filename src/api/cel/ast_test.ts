// Unit tests of the cel-js AST walk that cost metering and ternary typing rely on: every node is
// reached once, macro expansions and nested arguments included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Environment } from '@marcbachmann/cel-js';
import { forEachNode, isAstNode, type WalkedNode } from './ast.ts';

function nodesOf(expression: string): WalkedNode[] {
  const env = new Environment().registerVariable('x', 'dyn');
  const nodes: WalkedNode[] = [];
  forEachNode(env.parse(expression).ast, (n) => nodes.push(n));
  return nodes;
}

describe('cel-js AST walk', () => {
  test('reaches the nodes of nested calls, ternaries and macro expansions, each once', () => {
    const nodes = nodesOf("[1, 2].all(i, i > 0) ? x.contains('a') : size(x) == 2");
    assert.equal(new Set(nodes).size, nodes.length);
    const ops = nodes.map((n) => n.op);
    assert.equal(ops[0], '?:', 'a parent before its arguments');
    for (const op of ['rcall', 'call', '==', '>']) assert.ok(ops.includes(op), `${op} in ${ops.join(' ')}`);
    // all() keeps its expansion beside its arguments (meta.alternate): the walk reaches it too
    assert.ok(ops.includes('comprehension'), ops.join(' '));
  });

  test('plain values are not nodes', () => {
    assert.equal(isAstNode({ op: 'value' }), false);
    assert.equal(isAstNode(null), false);
  });
});
