// NodeName against upstream's TestNodeName table.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/interface.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { ErrReason, Name, newNodeName } from './node_name.ts';

describe('NodeName Filter', () => {
  const cases = [
    { name: 'no host specified', pod: makePod().obj(), want: null },
    { name: 'host matches', pod: makePod().node('foo').obj(), want: null },
    { name: 'host does not match', pod: makePod().node('bar').obj(), want: ErrReason },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newNodeName]]), plugins: multiPoint(Name), nodes: [makeNode().name('foo').obj()] });
      const s = filterEach(fwk, snapshot, c.pod).byNode.get('foo') ?? null;
      if (c.want === null) assert.equal(s, null);
      else {
        assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
        assert.deepEqual(s?.reasons, ["node(s) didn't match the requested node name"]);
      }
    });
  }
});
