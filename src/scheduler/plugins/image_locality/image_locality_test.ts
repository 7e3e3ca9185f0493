// ImageLocality against upstream's TestImageLocalityPriority table.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../../api/types/core_v1.ts';
import { CycleState } from '../../framework/cycle_state.ts';
import { makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { Name, newImageLocality, normalizedImageName } from './image_locality.ts';

const mb = 1024 * 1024;

function scores(pod: Pod, nodes: Node[]): number[] {
  const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newImageLocality]]), plugins: multiPoint(Name), nodes });
  const totals = fwk.runScorePlugins(new CycleState(), pod, snapshot.nodeInfoList);
  return nodes.map((n) => totals[snapshot.nodeInfoList.findIndex((ni) => ni.name === n.metadata?.name)] as number);
}

describe('ImageLocality Score', () => {
  const node403002000 = () => makeNode().name('node1').image(40 * mb, 'gcr.io/40:latest', 'gcr.io/40:v1').image(300 * mb, 'gcr.io/300:latest', 'gcr.io/300:v1').image(2000 * mb, 'gcr.io/2000:latest').obj();
  const node25010 = () => makeNode().name('node2').image(250 * mb, 'gcr.io/250:latest').image(10 * mb, 'gcr.io/10:latest', 'gcr.io/10:v1').obj();

  test('two images spread on two nodes, prefer the larger image one', () => {
    // node1: 40MB * 1/2 = 20MB < 23MB -> 0; node2: 250MB * 1/2 = 125MB -> 100 * (125-23)/(2000-23) = 5.
    const pod = makePod().container('gcr.io/40').container('gcr.io/250').obj();
    assert.deepEqual(scores(pod, [node403002000(), node25010()]), [0, 5]);
  });

  test('two images on one node, prefer that node', () => {
    // node1: (40+300)/2 = 170MB -> 100 * (170-23)/(2000-23) = 7; node2: none -> 0.
    const pod = makePod().container('gcr.io/40').container('gcr.io/300').obj();
    assert.deepEqual(scores(pod, [node403002000(), node25010()]), [7, 0]);
  });

  test('if exceed limit, use limit', () => {
    // One container: at most 1000MB counts. node1: 2000MB/2 = 1000MB -> 100; node2 lacks it -> 0.
    assert.deepEqual(scores(makePod().container('gcr.io/2000').obj(), [node403002000(), node25010()]), [100, 0]);
    // Two containers: 2000MB max. node1: 1000MB -> 100 * (1000-23)/(2000-23) = 49; node2: 5MB -> 0.
    assert.deepEqual(scores(makePod().container('gcr.io/2000').container('gcr.io/10').obj(), [node403002000(), node25010()]), [49, 0]);
  });

  test('image names are normalized with :latest', () => {
    assert.equal(normalizedImageName('gcr.io/40'), 'gcr.io/40:latest');
    assert.equal(normalizedImageName('localhost:5000/img'), 'localhost:5000/img:latest');
    assert.equal(normalizedImageName('gcr.io/40:v1'), 'gcr.io/40:v1');
  });
});
