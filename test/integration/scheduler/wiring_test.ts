// The scheduler as a component: leader election on kube-system/kube-scheduler (one of two
// instances schedules, the other takes over when it stops), a --scheduler-config file with a second
// profile, and WaitForFirstConsumer volumes bound through the selected-node annotation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startScheduler, type RunningScheduler } from '../../../src/scheduler/wiring/start_scheduler.ts';
import { applyPods, eventually, getJson, kubectl, namespace, podYaml, runningOn, startCluster, type SchedulerCluster } from './harness.ts';

describe('scheduler wiring', () => {
  let c: SchedulerCluster;

  before(async () => {
    c = await startCluster({ count: 2 }, {
      config: {
        apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration',
        profiles: [{ schedulerName: 'default-scheduler' }, {
          schedulerName: 'bin-packer',
          pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }],
        }],
      },
    });
  });

  after(async () => {
    await c?.stop();
  });

  test('a second profile schedules its own pods and reports events under its name', async () => {
    const ns = await namespace(c.s, 'profiles');
    await applyPods(c.s, [podYaml('packed', ns, { spec: ['schedulerName: bin-packer'], requests: { cpu: '100m' } })]);
    const node = await runningOn(c.s, ns, 'packed');
    const ev = await eventually('the Scheduled event', async () => {
      const items = (await getJson(c.s, ['events', '-n', ns, '--field-selector', 'reason=Scheduled'])).items as any[];
      return items[0];
    });
    assert.equal(ev.source.component, 'bin-packer');
    assert.equal(ev.message, `Successfully assigned ${ns}/packed to ${node}`);
    // Nobody serves this scheduler name: the pod stays Pending without any scheduling event.
    await applyPods(c.s, [podYaml('orphan', ns, { spec: ['schedulerName: nobody'] })]);
    await applyPods(c.s, [podYaml('marker', ns)]);
    await runningOn(c.s, ns, 'marker');
    const orphan = await getJson(c.s, ['pod', 'orphan', '-n', ns]);
    assert.equal(orphan.spec.nodeName, undefined);
    assert.equal(orphan.status.conditions, undefined);
  });

  test('only the leader of kube-system/kube-scheduler schedules; the other takes over when it stops', async () => {
    const ns = await namespace(c.s, 'election');
    const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 };
    const configPath = join(c.s.dir, 'elect.yaml');
    // Its own scheduler name, so the cluster's scheduler leaves these pods alone.
    await writeFile(configPath, 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: elected\n');
    const a: RunningScheduler = await startScheduler({ kubeconfig: c.s.kubeconfig, config: configPath, leaderElection: true, identity: 'sched-a', ...timing });
    let b: RunningScheduler | undefined;
    try {
      await a.started;
      b = await startScheduler({ kubeconfig: c.s.kubeconfig, config: configPath, leaderElection: true, identity: 'sched-b', ...timing });
      const lease = await getJson(c.s, ['lease', 'kube-scheduler', '-n', 'kube-system']);
      assert.equal(lease.spec.holderIdentity, 'sched-a');
      assert.equal(a.isLeading(), true);
      assert.equal(b.isLeading(), false);
      await applyPods(c.s, [podYaml('first', ns, { spec: ['schedulerName: elected'] })]);
      await runningOn(c.s, ns, 'first');

      await a.dispose();
      await b.started;
      assert.equal(b.isLeading(), true);
      assert.equal((await getJson(c.s, ['lease', 'kube-scheduler', '-n', 'kube-system'])).spec.holderIdentity, 'sched-b');
      await applyPods(c.s, [podYaml('second', ns, { spec: ['schedulerName: elected'] })]);
      await runningOn(c.s, ns, 'second');
    } finally {
      await a.dispose();
      await b?.dispose();
    }
  });

  test('a WaitForFirstConsumer claim gets the selected-node annotation and the pod binds once the claim is bound', async () => {
    const ns = await namespace(c.s, 'volumes');
    await kubectl(c.s, ['apply', '-f', '-'], [
      'apiVersion: storage.k8s.io/v1', 'kind: StorageClass', 'metadata:', '  name: late', 'provisioner: example.com/fake',
      'volumeBindingMode: WaitForFirstConsumer', '---',
      'apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata:', '  name: data', `  namespace: ${ns}`, 'spec:',
      '  storageClassName: late', '  accessModes: [ReadWriteOnce]', '  resources:', '    requests:', '      storage: 1Gi', '',
    ].join('\n'));
    await applyPods(c.s, [podYaml('consumer', ns, { spec: ['volumes:', '- name: data', '  persistentVolumeClaim:', '    claimName: data'] })]);
    const node = await eventually('the selected-node annotation', async () => {
      const pvc = await getJson(c.s, ['pvc', 'data', '-n', ns]);
      return pvc.metadata.annotations?.['volume.kubernetes.io/selected-node'] as string | undefined;
    });
    assert.match(node, /^sim-[01]$/);
    assert.equal((await getJson(c.s, ['pod', 'consumer', '-n', ns])).spec.nodeName, undefined, 'not bound before its volume');

    // Play the provisioner and the PV controller.
    await kubectl(c.s, ['apply', '-f', '-'], [
      'apiVersion: v1', 'kind: PersistentVolume', 'metadata:', '  name: pv-data', 'spec:', '  storageClassName: late',
      '  capacity:', '    storage: 1Gi', '  accessModes: [ReadWriteOnce]', '  hostPath:', '    path: /tmp/data',
      `  claimRef:`, `    namespace: ${ns}`, '    name: data', '', 
    ].join('\n'));
    await kubectl(c.s, ['patch', 'pvc', 'data', '-n', ns, '--type', 'merge', '-p',
      JSON.stringify({ metadata: { annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { volumeName: 'pv-data' } })]);
    await kubectl(c.s, ['patch', 'pvc', 'data', '-n', ns, '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status: { phase: 'Bound' } })]);
    assert.equal(await runningOn(c.s, ns, 'consumer'), node);
  });
});
