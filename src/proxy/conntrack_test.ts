// Tests of the stale UDP conntrack cleanup: which `conntrack -D` commands a sync issues, and that
// "nothing to delete" is not an error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConntrackDeletions, staleConntrackDeletions } from './conntrack.ts';
import { servicePortsForService } from './service_port.ts';
import { makeService } from './test_fixtures.ts';
import type { CommandRunner, EndpointInfo, ServicePortMap } from './types.ts';

const dns = makeService({
  ns: 'kube-system',
  name: 'dns',
  type: 'NodePort',
  clusterIP: '10.43.0.10',
  externalIPs: ['10.200.0.53'],
  ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
});
const map: ServicePortMap = servicePortsForService(dns, { serviceLoadBalancerAddresses: [] });
const key = 'kube-system/dns:dns/UDP';
const ep = (ip: string): EndpointInfo => ({ ip, port: 53, endpoint: `${ip}:53`, nodeName: 'n', isLocal: false, ready: true, serving: true, terminating: false });

test('a newly active UDP service clears flows to its addresses and node port', () => {
  const d = staleConntrackDeletions(
    map,
    { updatedServices: new Set(), deletedUDPClusterIPs: new Set() },
    { updatedServices: new Set(), deletedUDPEndpoints: [], newlyActiveUDPServices: [key], lastChangeTriggerTimes: new Map() },
  );
  assert.deepEqual(d, [
    ['-D', '--orig-dst', '10.200.0.53', '-p', 'udp'],
    ['-D', '--orig-dst', '10.43.0.10', '-p', 'udp'],
    ['-D', '-p', 'udp', '--dport', '30053'],
  ]);
});

test('a removed UDP endpoint clears flows NATed to it; a removed UDP service clears its ClusterIP', () => {
  const d = staleConntrackDeletions(
    map,
    { updatedServices: new Set(), deletedUDPClusterIPs: new Set(['10.43.9.9']) },
    { updatedServices: new Set(), deletedUDPEndpoints: [{ servicePortKey: key, endpoint: ep('10.42.0.7') }], newlyActiveUDPServices: [], lastChangeTriggerTimes: new Map() },
  );
  assert.deepEqual(d, [
    ['-D', '--orig-dst', '10.43.9.9', '-p', 'udp'],
    ['-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.42.0.7'],
    ['-D', '--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.7', '-p', 'udp'],
    ['-D', '--orig-dst', '10.200.0.53', '--dst-nat', '10.42.0.7', '-p', 'udp'],
  ]);
});

test('"0 flow entries have been deleted" is success; other failures are reported', async () => {
  const runner: CommandRunner = {
    async run(_cmd, args) {
      if (args.includes('10.0.0.1')) return { code: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' };
      return { code: 127, stdout: '', stderr: 'spawn conntrack ENOENT' };
    },
  };
  assert.deepEqual(await runConntrackDeletions(runner, [['-D', '--orig-dst', '10.0.0.1', '-p', 'udp']]), []);
  const errs = await runConntrackDeletions(runner, [['-D', '--orig-dst', '10.0.0.2', '-p', 'udp']]);
  assert.equal(errs.length, 1);
  assert.match(errs[0]!, /exit 127: spawn conntrack ENOENT/);
});
