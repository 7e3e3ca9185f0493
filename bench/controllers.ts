// Controllers benchmark: on simulated nodes, a Deployment scaled from zero to N available replicas,
// then a rolling update of all of them, with the real API server (SQLite store), scheduler,
// controller manager and simulated kubelets in one process. Prints seconds for each and the RSS.
// Usage: npm run bench -- controllers [nodes=1000] [replicas=10000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startTestServer } from '../src/testing/test_server.ts';
import { RestClient } from '../src/client/rest_client.ts';
import { resourceDescriptor } from '../src/client/resource_descriptor.ts';
import { startControllerManager } from '../src/controllers/manager.ts';
import { startScheduler } from '../src/scheduler/wiring/start_scheduler.ts';
import { startSimNodes } from '../src/sim/sim_nodes.ts';

type Obj = Record<string, any>;

export async function run(args: readonly string[]): Promise<void> {
  const nodes = Number(args[0] ?? 1000);
  const replicas = Number(args[1] ?? 10000);
  const dir = await mkdtemp(join(tmpdir(), 'tkube-bench-ctl-'));
  const s = await startTestServer({ endpoint: `sqlite://${join(dir, 'state.db')}` });
  const client = await RestClient.fromKubeconfig(s.kubeconfig);
  const disposables: Array<{ dispose(): unknown }> = [];
  try {
    disposables.push(await startSimNodes({ kubeconfig: s.kubeconfig, count: nodes, capacity: { cpu: '64', memory: '256Gi', pods: '110' } }));
    disposables.push(await startControllerManager({
      kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench',
      options: { clusterCidr: '10.64.0.0/10', serviceCidr: '10.43.0.0/16', rootCaPem: '' }, // room for a /24 per simulated node
    }));
    disposables.push(await startScheduler({ kubeconfig: s.kubeconfig, leaderElection: false, identity: 'bench' }));
    const deployments = client.resource<Obj>(resourceDescriptor('apps/v1', 'deployments'), 'default');
    const waitAvailable = async (label: string, started: number, check: (d: Obj) => boolean): Promise<number> => {
      for (;;) {
        const d = await deployments.get('load');
        if (check(d)) return (performance.now() - started) / 1000;
        if (performance.now() - started > 15 * 60_000) throw new Error(`${label}: gave up after 15 minutes: ${JSON.stringify(d['status'])}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // Wall time on a shared machine depends on its load; the process's CPU time says more.
    const cpuSeconds = (since: NodeJS.CpuUsage): number => {
      const c = process.cpuUsage(since);
      return (c.user + c.system) / 1e6;
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await deployments.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'load' },
      spec: {
        replicas, selector: { matchLabels: { app: 'load' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: { metadata: { labels: { app: 'load' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.26', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
      },
    });
    const up = await waitAvailable('scale up', t0, (d) => d['status']?.['availableReplicas'] === replicas);
    const rssUp = process.memoryUsage().rss;
    const cpuUp = cpuSeconds(cpu0);
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    await deployments.patch('load', 'strategic', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } });
    const rolled = await waitAvailable('rolling update', t1, (d) => {
      const st = d['status'] ?? {};
      return d['metadata']['generation'] <= (st['observedGeneration'] ?? 0) && st['updatedReplicas'] === replicas
        && st['availableReplicas'] === replicas && (st['replicas'] ?? 0) === replicas;
    });
    console.log(`controllers on ${nodes} simulated nodes, Deployment of ${replicas} replicas (API server, scheduler, controllers and sim in one process)`);
    const cpuRolled = cpuSeconds(cpu1);
    console.log(`zero to all available   ${up.toFixed(1)} s   (${(replicas / up).toFixed(0)} pods/s; ${cpuUp.toFixed(1)} s CPU)`);
    console.log(`rolling update of all   ${rolled.toFixed(1)} s   (${cpuRolled.toFixed(1)} s CPU)`);
    console.log(`RSS after scale-up ${(rssUp / 2 ** 20).toFixed(0)} MiB, at the end ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    console.log('target: both under 60 s');
  } finally {
    for (const d of disposables.reverse()) await d.dispose();
    client.dispose();
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
