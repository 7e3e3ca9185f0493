// The node's capacity and allocatable: allocatable holds back the hard eviction thresholds for
// memory and the node filesystem (upstream's hardEvictionReservation), as configured.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MachineInfo } from './machine_info.ts';
import { nodeResources } from './node_status.ts';

const GiB = 1024 ** 3;
const machine: MachineInfo = {
  cpus: 2, memoryBytes: 8 * GiB, filesystemBytes: 100 * GiB, kernelVersion: '6.1', osImage: 'Debian', machineID: 'm', systemUUID: 'u',
  bootID: 'b', architecture: 'amd64',
};

describe('nodeResources', () => {
  test('by default 100Mi of memory and 10% of the node filesystem are held back', () => {
    const { capacity, allocatable } = nodeResources(machine);
    assert.equal(capacity.memory, `${8 * 1024 * 1024}Ki`);
    assert.equal(allocatable.memory, `${8 * 1024 * 1024 - 100 * 1024}Ki`);
    // 10% as upstream computes it: a float32 fraction of the capacity, truncated
    assert.equal(allocatable['ephemeral-storage'], String(100 * GiB - Math.trunc(100 * GiB * Math.fround(0.1))));
    assert.equal(allocatable.pods, '110');
    assert.equal(allocatable.cpu, '2');
  });

  test('--eviction-hard and --max-pods as configured; signals not given hold nothing back', () => {
    const { capacity, allocatable } = nodeResources(machine, 50, { 'memory.available': '1Gi', 'imagefs.available': '20%' });
    assert.equal(allocatable.memory, `${7 * 1024 * 1024}Ki`);
    assert.equal(allocatable['ephemeral-storage'], String(100 * GiB));
    assert.equal(capacity.pods, '50');
    assert.equal(allocatable.pods, '50');
  });
});
