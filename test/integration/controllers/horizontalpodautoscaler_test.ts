// The HorizontalPodAutoscaler controller against a real API server: without the metrics.k8s.io API
// the HPA reports AbleToScale/ScalingActive as upstream does and kubectl shows <unknown>; with pod
// metrics (a fake metrics source) it scales the Deployment through its scale subresource, within
// the scale-up limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/horizontalpodautoscaler/horizontal.ts';
import { HorizontalController } from '../../../src/controllers/horizontalpodautoscaler/horizontal.ts';
import type { PodMetricsInfo } from '../../../src/controllers/horizontalpodautoscaler/replica_calculator.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, type RunningControllers } from './svcnode_harness.ts';
import { applyCrds } from '../../../src/testing/integration_helpers.ts';

function deployment(replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx
        resources: {requests: {cpu: 100m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 50}
`;
}

const MISSING = 'failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)';

describe('HPA without a metrics API', () => {
  let s: TestServer;
  let run: RunningControllers;
  before(async () => {
    s = await startTestServer();
    run = await startControllers(s, ['horizontalpodautoscaling']);
  });
  after(async () => {
    await run?.stop();
    await s?.stop();
  });

  test('reports the missing metrics as upstream does', async () => {
    const ns = await freshNamespace(s, 'hpa');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], deployment(2));
    const hpa = await eventually('HPA conditions', async () => {
      const h = await getJson(s, ['hpa', 'web', '-n', ns]);
      return h.status?.conditions?.some((c: any) => c.type === 'ScalingActive') ? h : undefined;
    });
    const able = hpa.status.conditions.find((c: any) => c.type === 'AbleToScale');
    assert.deepEqual([able.status, able.reason, able.message], ['True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale"]);
    const active = hpa.status.conditions.find((c: any) => c.type === 'ScalingActive');
    assert.deepEqual([active.status, active.reason, active.message], ['False', 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${MISSING}`]);
    assert.equal(hpa.status.currentReplicas, 2);
    const table = await kubectlOk(s, ['get', 'hpa', 'web', '-n', ns]);
    assert.match(table, /Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+10\s+2/);
    const d = await eventually('events in describe', async () => {
      const out = await kubectlOk(s, ['describe', 'hpa', 'web', '-n', ns]);
      return out.includes('FailedComputeMetricsReplicas') ? out : undefined;
    });
    assert.ok(d.includes(`FailedGetResourceMetric`));
    assert.ok(d.includes(`invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${MISSING}`));
    // Nothing was scaled.
    assert.equal((await getJson(s, ['deploy', 'web', '-n', ns])).spec.replicas, 2);
  });

  test('a missing target is reported with FailedGetScale', async () => {
    const ns = await freshNamespace(s, 'hpam');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], deployment(1).split('---\n')[1]!);
    const h = await eventually('AbleToScale False', async () => {
      const x = await getJson(s, ['hpa', 'web', '-n', ns]);
      return x.status?.conditions?.find((c: any) => c.type === 'AbleToScale')?.status === 'False' ? x : undefined;
    });
    const able = h.status.conditions.find((c: any) => c.type === 'AbleToScale');
    assert.equal(able.reason, 'FailedGetScale');
    assert.match(able.message, /^the HPA controller was unable to get the target's current scale: deployments.apps "web" not found$/);
  });

  test('a custom resource with a scale subresource is a target', async () => {
    await applyCrds(s, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: shards.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: shards, singular: shard, kind: Shard}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {replicas: {type: integer}}}
          status: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}
`, 'shards.example.com');
    const ns = await freshNamespace(s, 'hpacr');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: example.com/v1
kind: Shard
metadata: {name: web}
spec: {replicas: 3}
---
${deployment(1).split('---\n')[1]!.replace('{apiVersion: apps/v1, kind: Deployment, name: web}', '{apiVersion: example.com/v1, kind: Shard, name: web}')}`);
    const h = await eventually('AbleToScale', async () => {
      const x = await getJson(s, ['hpa', 'web', '-n', ns]);
      return x.status?.conditions?.some((c: any) => c.type === 'AbleToScale') ? x : undefined;
    });
    const able = h.status.conditions.find((c: any) => c.type === 'AbleToScale');
    assert.deepEqual([able.status, able.reason], ['True', 'SucceededGetScale']);
    assert.equal(h.status.currentReplicas, 3);
  });
});

describe('HPA with pod metrics', () => {
  let s: TestServer;
  let run: RunningControllers;
  const usageMilli = 200;
  before(async () => {
    s = await startTestServer();
    const metrics = {
      async getResourceMetric(): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
        const pods = (await getJson(s, ['pods', '-A', '-l', 'app=web'])).items as any[];
        const now = Date.now();
        return { metrics: new Map(pods.map((p) => [p.metadata.name, { timestamp: now, windowMs: 30_000, value: usageMilli }])), timestamp: now };
      },
    };
    run = await startControllers(s, [], {}, (ctx) => [new HorizontalController(ctx, { metrics, resyncPeriodMs: 500 })]);
  });
  after(async () => {
    await run?.stop();
    await s?.stop();
  });

  test('scales up within the scale-up limit and records why', async () => {
    const ns = await freshNamespace(s, 'hpas');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], deployment(2).split('---\n')[0]!);
    const since = Date.now() - 10 * 60 * 1000;
    for (const name of ['web-a', 'web-b']) {
      await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: web}
spec:
  nodeName: node-a
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: 100m}}
`);
      await setPodStatus(run.client, ns, name, { ip: '10.42.0.9', ready: true, sinceMs: since });
    }
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], deployment(2).split('---\n')[1]!);
    // 200% of requests against a 50% target asks for 8; without behavior at most max(2x, 4) = 4.
    await eventually('deployment scaled to 4', async () => ((await getJson(s, ['deploy', 'web', '-n', ns])).spec.replicas === 4 ? true : undefined));
    const h = await eventually('status after rescale', async () => {
      const x = await getJson(s, ['hpa', 'web', '-n', ns]);
      return x.status?.desiredReplicas === 4 ? x : undefined;
    });
    const limited = h.status.conditions.find((c: any) => c.type === 'ScalingLimited');
    assert.deepEqual([limited.status, limited.reason], ['True', 'ScaleUpLimit']);
    const active = h.status.conditions.find((c: any) => c.type === 'ScalingActive');
    assert.deepEqual([active.status, active.reason, active.message], ['True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)']);
    assert.equal(h.status.currentMetrics[0].resource.current.averageUtilization, 200);
    assert.equal(h.status.currentMetrics[0].resource.current.averageValue, '200m');
    assert.ok(h.status.lastScaleTime);
    const d = await kubectlOk(s, ['describe', 'hpa', 'web', '-n', ns]);
    assert.match(d, /SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);
  });
});
