// PrioritySort after upstream's TestLess: higher priority first, then earlier queue timestamp.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PodInfo, QueuedPodInfo } from '../../framework/pod_info.ts';
import { makePod } from '../../framework/testing/wrappers.ts';
import { PrioritySort } from './priority_sort.ts';

const q = (priority: number, ts: number): QueuedPodInfo => new QueuedPodInfo(new PodInfo(makePod().priority(priority).obj()), ts);

describe('PrioritySort', () => {
  const pl = new PrioritySort();
  test('p1.priority less than p2.priority', () => assert.equal(pl.less(q(100, 0), q(200, 0)), false));
  test('p1.priority greater than p2.priority', () => assert.equal(pl.less(q(200, 0), q(100, 0)), true));
  test('equal priority, p1 added to the queue earlier', () => assert.equal(pl.less(q(100, 1), q(100, 2)), true));
  test('equal priority, p2 added to the queue earlier', () => assert.equal(pl.less(q(100, 2), q(100, 1)), false));
});
