// Deployment controller (with the ReplicaSet controller) against a real API server, driven by
// kubectl: rollout status, a rolling update checked step by step, history and undo, pause and
// resume, a stuck rollout hitting its progress deadline, and Recreate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, getJson, isReady, kubectlOk, listPods, startHarness, type Harness } from './workload_harness.ts';
import { computeHash } from '../../../src/controllers/deep_hash.ts';

const HASH = /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/;

function deploymentYaml(ns: string, o: { replicas: number; image: string; surge?: number | string; unavailable?: number | string; deadline?: number; strategy?: string }): string {
  const strategy = o.strategy === 'Recreate'
    ? '{type: Recreate}'
    : `{type: RollingUpdate, rollingUpdate: {maxSurge: ${o.surge ?? '25%'}, maxUnavailable: ${o.unavailable ?? '25%'}}}`;
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${o.replicas}
  ${o.deadline !== undefined ? `progressDeadlineSeconds: ${o.deadline}` : ''}
  strategy: ${strategy}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: ${o.image}}]}
`;
}

describe('Deployment controller', () => {
  let h: Harness;
  before(async () => { h = await startHarness(['replicaset', 'deployment']); });
  after(async () => { await h.stop(); });

  test('kubectl create deployment rolls out: ReplicaSet name, annotations, conditions, events', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd1']);
    await kubectlOk(h.s, ['create', 'deployment', 'web', '--image=nginx', '--replicas=3', '-n', 'd1']);
    const out = await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd1', '--timeout=20s']);
    assert.match(out, /deployment "web" successfully rolled out/);
    const d = await getJson(h.s, ['deployment', 'web', '-n', 'd1']);
    const rsList = await getJson(h.s, ['rs', '-n', 'd1']);
    assert.equal(rsList.items.length, 1);
    const rs = rsList.items[0];
    const hash = rs.metadata.labels['pod-template-hash'];
    assert.match(hash, HASH);
    assert.equal(hash, computeHash(d.spec.template));
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual(rs.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(rs.metadata.ownerReferences[0].kind, 'Deployment');
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(
      { replicas: d.status.replicas, updated: d.status.updatedReplicas, ready: d.status.readyReplicas, available: d.status.availableReplicas },
      { replicas: 3, updated: 3, ready: 3, available: 3 },
    );
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    const available = d.status.conditions.find((c: any) => c.type === 'Available');
    assert.equal(available.reason, 'MinimumReplicasAvailable');
    assert.equal(available.message, 'Deployment has minimum availability.');
    const progressing = d.status.conditions.find((c: any) => c.type === 'Progressing');
    assert.equal(progressing.reason, 'NewReplicaSetAvailable');
    assert.equal(progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
    const ev = await getJson(h.s, ['events', '-n', 'd1', '--field-selector', 'reason=ScalingReplicaSet']);
    assert.equal(ev.items[0].message, `Scaled up replica set web-${hash} from 0 to 3`);
    assert.equal(ev.items[0].source.component, 'deployment-controller');
    const pods = await listPods(h, 'd1');
    assert.ok(pods.every((p) => p.metadata!.labels!['pod-template-hash'] === hash && p.metadata!.name!.startsWith(`web-${hash}-`)));
  });

  test('a rolling update never exceeds maxSurge nor drops below maxUnavailable, step by step', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd2']);
    await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d2', { replicas: 4, image: 'nginx:1', surge: 1, unavailable: 1 }));
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd2', '--timeout=20s']);
    h.kubelet.auto = false;
    try {
      await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=nginx:2', '-n', 'd2']);
      let steps = 0;
      const deadline = Date.now() + 30_000;
      for (;;) {
        assert.ok(Date.now() < deadline, 'rolling update did not finish in time');
        const pods = (await listPods(h, 'd2')).filter((p) => !p.metadata!.deletionTimestamp);
        const rss = (await getJson(h.s, ['rs', '-n', 'd2'])).items;
        const specTotal = rss.reduce((n: number, rs: any) => n + (rs.spec.replicas ?? 0), 0);
        const ready = pods.filter(isReady);
        assert.ok(specTotal <= 5, `ReplicaSets ask for ${specTotal} > replicas + maxSurge`);
        assert.ok(pods.length <= 5, `${pods.length} pods > replicas + maxSurge`);
        assert.ok(ready.length >= 3, `${ready.length} ready < replicas - maxUnavailable`);
        const fresh = pods.filter((p) => p.spec!.containers[0]!.image === 'nginx:2');
        if (fresh.length === 4 && pods.length === 4 && fresh.every(isReady)) break;
        const waiting = fresh.find((p) => !isReady(p));
        if (waiting) {
          await h.kubelet.markReady('d2', waiting.metadata!.name!);
          steps++;
        }
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(steps <= 10, 'too many steps');
      }
      assert.ok(steps >= 4, 'every new pod was made ready one at a time');
    } finally {
      h.kubelet.auto = true;
    }
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd2', '--timeout=20s']);
    const rss = (await getJson(h.s, ['rs', '-n', 'd2'])).items;
    assert.equal(rss.length, 2);
    const old = rss.find((r: any) => r.spec.template.spec.containers[0].image === 'nginx:1');
    assert.equal(old.spec.replicas, 0);
    assert.equal(old.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const ev = (await getJson(h.s, ['events', '-n', 'd2', '--field-selector', 'reason=ScalingReplicaSet'])).items.map((e: any) => e.message);
    assert.ok(ev.some((m: string) => /^Scaled down replica set web-\w+ from 4 to 3$/.test(m)), ev.join('\n'));
  });

  test('rollout history and rollout undo --to-revision reuse the old ReplicaSet', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd3']);
    await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d3', { replicas: 2, image: 'nginx:1' }));
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd3', '--timeout=20s']);
    await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=nginx:2', '-n', 'd3']);
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd3', '--timeout=20s']);
    const history = await kubectlOk(h.s, ['rollout', 'history', 'deployment/web', '-n', 'd3']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const rev1 = await kubectlOk(h.s, ['rollout', 'history', 'deployment/web', '-n', 'd3', '--revision=1']);
    assert.match(rev1, /Image:\s+nginx:1/);
    const rssBefore = (await getJson(h.s, ['rs', '-n', 'd3'])).items;
    const out = await kubectlOk(h.s, ['rollout', 'undo', 'deployment/web', '-n', 'd3', '--to-revision=1']);
    assert.match(out, /deployment.apps\/web rolled back/);
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd3', '--timeout=20s']);
    const rss = (await getJson(h.s, ['rs', '-n', 'd3'])).items;
    assert.equal(rss.length, 2, 'no third ReplicaSet');
    const back = rss.find((r: any) => r.spec.template.spec.containers[0].image === 'nginx:1');
    assert.equal(back.metadata.name, rssBefore.find((r: any) => r.spec.template.spec.containers[0].image === 'nginx:1').metadata.name);
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(back.spec.replicas, 2);
    const d = await getJson(h.s, ['deployment', 'web', '-n', 'd3']);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    const history2 = await kubectlOk(h.s, ['rollout', 'history', 'deployment/web', '-n', 'd3']);
    assert.match(history2, /\n2\s+<none>\n3\s+<none>/);
  });

  test('pause holds a template change until resume', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd4']);
    await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d4', { replicas: 2, image: 'nginx:1' }));
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd4', '--timeout=20s']);
    await kubectlOk(h.s, ['rollout', 'pause', 'deployment/web', '-n', 'd4']);
    await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=nginx:2', '-n', 'd4']);
    const paused = await eventually('Progressing DeploymentPaused', async () => {
      const d = await getJson(h.s, ['deployment', 'web', '-n', 'd4']);
      const c = d.status.conditions?.find((x: any) => x.type === 'Progressing');
      return c?.reason === 'DeploymentPaused' && d.status.observedGeneration === d.metadata.generation ? c : undefined;
    });
    assert.equal(paused.status, 'Unknown');
    assert.equal(paused.message, 'Deployment is paused');
    assert.equal((await getJson(h.s, ['rs', '-n', 'd4'])).items.length, 1, 'no new ReplicaSet while paused');
    await kubectlOk(h.s, ['rollout', 'resume', 'deployment/web', '-n', 'd4']);
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd4', '--timeout=20s']);
    const rss = (await getJson(h.s, ['rs', '-n', 'd4'])).items;
    assert.equal(rss.length, 2);
  });

  test('a rollout that makes no progress reaches ProgressDeadlineExceeded', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd5']);
    h.kubelet.holdIf = (p) => p.spec?.containers[0]?.image === 'broken';
    try {
      await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d5', { replicas: 1, image: 'nginx', deadline: 2 }));
      await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd5', '--timeout=20s']);
      await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=broken', '-n', 'd5']);
      const cond = await eventually('ProgressDeadlineExceeded', async () => {
        const d = await getJson(h.s, ['deployment', 'web', '-n', 'd5']);
        const c = d.status.conditions?.find((x: any) => x.type === 'Progressing');
        return c?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
      }, 15_000);
      assert.equal(cond.status, 'False');
      assert.match(cond.message, /^ReplicaSet "web-\w+" has timed out progressing\.$/);
      const r = await h.s.kubectl(['rollout', 'status', 'deployment/web', '-n', 'd5', '--timeout=10s']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /deployment "web" exceeded its progress deadline/);
    } finally {
      h.kubelet.holdIf = () => false;
    }
  });

  test('Recreate scales the old ReplicaSet to zero before the new one starts', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd6']);
    await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d6', { replicas: 2, image: 'nginx:1', strategy: 'Recreate' }));
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd6', '--timeout=20s']);
    await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=nginx:2', '-n', 'd6']);
    await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd6', '--timeout=20s']);
    const ev = (await getJson(h.s, ['events', '-n', 'd6', '--field-selector', 'reason=ScalingReplicaSet'])).items.map((e: any) => e.message);
    const down = ev.findIndex((m: string) => /^Scaled down replica set web-\w+ from 2 to 0$/.test(m));
    const up = ev.findIndex((m: string, i: number) => i > 0 && /^Scaled up replica set web-\w+ from 0 to 2$/.test(m));
    assert.ok(down > 0 && up > down, ev.join('\n'));
    const pods = await listPods(h, 'd6');
    assert.ok(pods.every((p) => p.spec!.containers[0]!.image === 'nginx:2'));
  });

  test('kubectl scale during a rollout scales ReplicaSets proportionally', async () => {
    await kubectlOk(h.s, ['create', 'namespace', 'd7']);
    h.kubelet.holdIf = (p) => p.spec?.containers[0]?.image === 'slow';
    try {
      await kubectlOk(h.s, ['apply', '-f', '-'], deploymentYaml('d7', { replicas: 10, image: 'nginx', surge: 3, unavailable: 2 }));
      await kubectlOk(h.s, ['rollout', 'status', 'deployment/web', '-n', 'd7', '--timeout=20s']);
      await kubectlOk(h.s, ['set', 'image', 'deployment/web', 'c=slow', '-n', 'd7']);
      // New RS gets 5 (10+3 surge - 8 old after 2 unavailable), old one 8.
      await eventually('rollout stuck at 8 old / 5 new', async () => {
        const rss = (await getJson(h.s, ['rs', '-n', 'd7'])).items.map((r: any) => r.spec.replicas).sort((a: number, b: number) => a - b);
        return rss.join() === '5,8' ? true : undefined;
      });
      await kubectlOk(h.s, ['scale', 'deployment/web', '-n', 'd7', '--replicas=20']);
      const sizes = await eventually('proportional sizes', async () => {
        const rss = (await getJson(h.s, ['rs', '-n', 'd7'])).items;
        const total = rss.reduce((n: number, r: any) => n + r.spec.replicas, 0);
        return total === 23 ? rss.map((r: any) => r.spec.replicas).sort((a: number, b: number) => a - b) : undefined;
      });
      // 13 -> 23 (20 + surge 5 at 25%... here surge is 3): old 8*23/13≈14, new 5*23/13≈9.
      assert.deepEqual(sizes, [9, 14]);
    } finally {
      h.kubelet.holdIf = () => false;
    }
  });
});
