// NodeUnschedulable against upstream's TestNodeUnschedulable table.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../framework/interface.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { Name, newNodeUnschedulable } from './node_unschedulable.ts';

describe('NodeUnschedulable Filter', () => {
  const tolerating = makePod().toleration({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }).obj();
  const cases = [
    { name: 'a schedulable node takes any pod', node: makeNode().name('n').obj(), pod: makePod().obj(), fits: true },
    { name: 'a cordoned node rejects a pod without the toleration', node: makeNode().name('n').unschedulable().obj(), pod: makePod().obj(), fits: false },
    { name: 'a cordoned node takes a pod tolerating node.kubernetes.io/unschedulable', node: makeNode().name('n').unschedulable().obj(), pod: tolerating, fits: true },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newNodeUnschedulable]]), plugins: multiPoint(Name), nodes: [c.node] });
      const s = filterEach(fwk, snapshot, c.pod).byNode.get('n') ?? null;
      if (c.fits) assert.equal(s, null);
      else assert.deepEqual({ code: s?.code, reasons: s?.reasons }, { code: Code.UnschedulableAndUnresolvable, reasons: ['node(s) were unschedulable'] });
    });
  }
});
