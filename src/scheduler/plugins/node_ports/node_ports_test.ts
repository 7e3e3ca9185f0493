// NodePorts against upstream's TestNodePorts table: the same port and protocol conflict on the same
// or the wildcard host IP; other protocols and IPs do not.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../../api/types/core_v1.ts';
import { CycleState } from '../../framework/cycle_state.ts';
import { Code } from '../../framework/interface.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { Name, newNodePorts } from './node_ports.ts';

function ports(...specs: Array<[string, string, number]>): Pod {
  const p = makePod();
  for (const [proto, ip, port] of specs) p.hostPort(port, proto, ip);
  return p.obj();
}

function existing(...specs: Array<[string, string, number]>): Pod {
  const p = ports(...specs);
  p.spec!.nodeName = 'n';
  return p;
}

describe('NodePorts Filter', () => {
  const cases: Array<{ name: string; pod: Pod; existing: Pod[]; fits: boolean; skip?: boolean }> = [
    { name: 'nothing running', pod: ports(['UDP', '127.0.0.1', 8080]), existing: [], fits: true },
    { name: 'other port', pod: ports(['UDP', '127.0.0.1', 8080]), existing: [existing(['UDP', '127.0.0.1', 9090])], fits: true },
    { name: 'same udp port', pod: ports(['UDP', '127.0.0.1', 8080]), existing: [existing(['UDP', '127.0.0.1', 8080])], fits: false },
    { name: 'same tcp port', pod: ports(['TCP', '127.0.0.1', 8080]), existing: [existing(['TCP', '127.0.0.1', 8080])], fits: false },
    { name: 'different host ip', pod: ports(['TCP', '127.0.0.1', 8080]), existing: [existing(['TCP', '127.0.0.2', 8080])], fits: true },
    { name: 'different protocol', pod: ports(['UDP', '127.0.0.1', 8080]), existing: [existing(['TCP', '127.0.0.1', 8080])], fits: true },
    { name: 'second udp port conflict', pod: ports(['UDP', '127.0.0.1', 8000], ['UDP', '127.0.0.1', 8080]), existing: [existing(['UDP', '127.0.0.1', 8080])], fits: false },
    { name: 'first tcp port conflict', pod: ports(['TCP', '127.0.0.1', 8001], ['UDP', '127.0.0.1', 8080]), existing: [existing(['TCP', '127.0.0.1', 8001], ['UDP', '127.0.0.1', 8081])], fits: false },
    { name: 'first tcp port conflict due to 0.0.0.0 hostIP', pod: ports(['TCP', '0.0.0.0', 8001]), existing: [existing(['TCP', '127.0.0.1', 8001])], fits: false },
    { name: 'TCP hostPort conflict due to 0.0.0.0 hostIP', pod: ports(['TCP', '10.0.10.10', 8001], ['TCP', '0.0.0.0', 8001]), existing: [existing(['TCP', '127.0.0.1', 8001])], fits: false },
    { name: 'second tcp port conflict to 0.0.0.0 hostIP', pod: ports(['TCP', '127.0.0.1', 8001]), existing: [existing(['TCP', '0.0.0.0', 8001])], fits: false },
    { name: 'second different protocol', pod: ports(['UDP', '127.0.0.1', 8001]), existing: [existing(['TCP', '0.0.0.0', 8001])], fits: true },
    { name: 'UDP hostPort conflict due to 0.0.0.0 hostIP', pod: ports(['UDP', '127.0.0.1', 8001]), existing: [existing(['TCP', '0.0.0.0', 8001], ['UDP', '0.0.0.0', 8001])], fits: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newNodePorts]]), plugins: multiPoint(Name), nodes: [makeNode().name('n').obj()], pods: c.existing });
      const s = filterEach(fwk, snapshot, c.pod).byNode.get('n') ?? null;
      if (c.fits) assert.equal(s, null);
      else assert.deepEqual({ code: s?.code, reasons: s?.reasons }, { code: Code.Unschedulable, reasons: ["node(s) didn't have free ports for the requested pod ports"] });
    });
  }

  test('a pod without host ports skips the filter', () => {
    const { fwk } = newTestFramework({ registry: new Map([[Name, newNodePorts]]), plugins: multiPoint(Name), nodes: [makeNode().name('n').obj()] });
    const state = new CycleState();
    assert.equal(fwk.runPreFilterPlugins(state, makePod().req({ cpu: '1' }).obj()).status, null);
    assert.ok(state.skipFilterPlugins.has(Name));
  });
});
