// NodeInfo's memo of counts plugins derive from its pods: valid until the node changes in any way,
// never carried into a copy whose contents differ.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeInfo } from './node_info.ts';
import { PodInfo } from './pod_info.ts';
import { makeNode, makePod } from './testing/wrappers.ts';

describe('NodeInfo derived counts', () => {
  test('hold until a pod or the node changes', () => {
    const ni = new NodeInfo();
    ni.setNode(makeNode().name('n').obj());
    const p = new PodInfo(makePod().name('a').uid('a').obj());
    assert.equal(ni.derivedCount('k'), undefined);
    ni.setDerivedCount('k', 3);
    ni.setDerivedCount('j', 4);
    assert.deepEqual([ni.derivedCount('k'), ni.derivedCount('j'), ni.derivedCount('k')], [3, 4, 3]);
    ni.addPodInfo(p);
    assert.equal(ni.derivedCount('k'), undefined);
    ni.setDerivedCount('k', 5);
    assert.equal(ni.derivedCount('j'), undefined);
    ni.removePod('a');
    assert.equal(ni.derivedCount('k'), undefined);
    ni.setDerivedCount('k', 6);
    ni.setNode(makeNode().name('n').label('x', 'y').obj());
    assert.equal(ni.derivedCount('k'), undefined);
  });

  test('a copy starts without them, and copying other contents in drops them', () => {
    const a = new NodeInfo();
    a.setNode(makeNode().name('a').obj());
    a.setDerivedCount('k', 1);
    const copy = a.snapshot();
    assert.equal(copy.derivedCount('k'), undefined);
    copy.setDerivedCount('k', 1);
    const b = new NodeInfo(new PodInfo(makePod().name('p').uid('p').obj()));
    b.setNode(makeNode().name('b').obj());
    copy.copyFrom(b);
    assert.equal(copy.derivedCount('k'), undefined);
    // A scratch copy changed and reset to the same contents (same generation) may reuse what was
    // derived from them, but not what was derived from its changed contents.
    const scratch = new NodeInfo();
    scratch.copyFrom(b);
    scratch.setDerivedCount('k', 7);
    scratch.addPodInfo(new PodInfo(makePod().name('q').uid('q').obj()));
    scratch.copyFrom(b);
    assert.equal(scratch.derivedCount('k'), 7);
    scratch.addPodInfo(new PodInfo(makePod().name('q').uid('q').obj()));
    scratch.setDerivedCount('k', 8);
    scratch.copyFrom(b);
    assert.equal(scratch.derivedCount('k'), undefined);
  });
});
