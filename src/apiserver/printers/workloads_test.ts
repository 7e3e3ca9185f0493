// Checks of the workload printers: deployments, replica sets, replication controllers, stateful
// sets, daemon sets, jobs, cron jobs, controller revisions and scale.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from './format.ts';
import {
  controllerRevisionPrinter, cronJobPrinter, daemonSetPrinter, deploymentPrinter, jobPrinter, replicaSetPrinter,
  replicationControllerPrinter, scalePrinter, statefulSetPrinter,
} from './workloads.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function ago(seconds: number): string {
  return new Date(NOW - seconds * 1000).toISOString();
}
function meta(name: string) {
  return { name, namespace: 'default', creationTimestamp: ago(3 * 3600 + 1800) };
}
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] } };

describe('deployment printer', () => {
  test('READY is ready/desired, then UP-TO-DATE, AVAILABLE, AGE and the wide cells', () => {
    const d = {
      metadata: meta('web'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, template },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.deepEqual(deploymentPrinter.row(d, ctx).cells, ['web', '2/3', 3, 2, '3h30m', 'nginx,side', 'nginx:1.27,busybox', 'app=web,env in (dev,prod)']);
  });

  test('a fresh deployment without status reads 0/1', () => {
    const d = { metadata: meta('web'), spec: { selector: { matchLabels: { app: 'web' } }, template } };
    assert.deepEqual(deploymentPrinter.row(d, ctx).cells.slice(0, 4), ['web', '0/1', 0, 0]);
  });

  test('a selector with an invalid key reads <invalid>; replica sets read <error>', () => {
    const bad = { matchLabels: { 'bad key': 'x' } };
    assert.equal(deploymentPrinter.row({ metadata: meta('web'), spec: { selector: bad, template } }, ctx).cells[7], '<invalid>');
    assert.equal(replicaSetPrinter.row({ metadata: meta('web'), spec: { selector: bad, template } }, ctx).cells[7], '<error>');
  });

  test('a selector that does not convert reads <invalid>', () => {
    const d = { metadata: meta('web'), spec: { replicas: 1, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] }, template } };
    assert.equal(deploymentPrinter.row(d, ctx).cells[7], '<invalid>');
  });

  test('columns are NAME READY UP-TO-DATE AVAILABLE AGE, then wide CONTAINERS IMAGES SELECTOR', () => {
    assert.deepEqual(
      deploymentPrinter.columns.map((c) => `${c.name}:${c.priority}`),
      ['Name:0', 'Ready:0', 'Up-to-date:0', 'Available:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1'],
    );
  });
});

describe('replica set and replication controller printers', () => {
  test('a replica set prints DESIRED CURRENT READY as integers and its selector', () => {
    const rs = {
      metadata: meta('web-5d9c'),
      spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9c' } }, template },
      status: { replicas: 2, readyReplicas: 1 },
    };
    assert.deepEqual(replicaSetPrinter.row(rs, ctx).cells, ['web-5d9c', 2, 2, 1, '3h30m', 'nginx,side', 'nginx:1.27,busybox', 'app=web,pod-template-hash=5d9c']);
  });

  test('a replication controller prints its map selector', () => {
    const rc = { metadata: meta('old'), spec: { replicas: 0, selector: { app: 'old' }, template }, status: { replicas: 0 } };
    assert.deepEqual(replicationControllerPrinter.row(rc, ctx).cells, ['old', 0, 0, 0, '3h30m', 'nginx,side', 'nginx:1.27,busybox', 'app=old']);
  });
});

describe('stateful set and daemon set printers', () => {
  test('a stateful set prints READY as ready/desired', () => {
    const ss = { metadata: meta('db'), spec: { replicas: 3, template }, status: { readyReplicas: 1 } };
    assert.deepEqual(statefulSetPrinter.row(ss, ctx).cells, ['db', '1/3', '3h30m', 'nginx,side', 'nginx:1.27,busybox']);
  });

  test('a daemon set prints its counts, node selector and selector', () => {
    const ds = {
      metadata: meta('agent'),
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...template, spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
    };
    assert.deepEqual(daemonSetPrinter.row(ds, ctx).cells, ['agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '3h30m', 'nginx,side', 'nginx:1.27,busybox', 'app=agent']);
  });

  test('a daemon set without a node selector prints <none>', () => {
    const ds = { metadata: meta('agent'), spec: { template } };
    assert.equal(daemonSetPrinter.row(ds, ctx).cells[6], '<none>');
  });
});

describe('job printer', () => {
  const job = (spec: object, status: object, metadata: object = {}) => ({
    metadata: { ...meta('pi'), ...metadata },
    spec: { template, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } }, ...spec },
    status,
  });
  const cases: { name: string; job: KObject; want: unknown[] }[] = [
    {
      name: 'a complete job shows its duration',
      job: job({ completions: 1 }, { succeeded: 1, startTime: ago(600), completionTime: ago(600 - 95), conditions: [{ type: 'Complete', status: 'True' }] }),
      want: ['pi', 'Complete', '1/1', '95s', '3h30m'],
    },
    {
      name: 'a running job measures its duration up to now',
      job: job({ completions: 5, parallelism: 2 }, { succeeded: 2, startTime: ago(200) }),
      want: ['pi', 'Running', '2/5', '3m20s', '3h30m'],
    },
    {
      name: 'a work-queue job with parallelism shows "of"',
      job: job({ parallelism: 3 }, { succeeded: 0, startTime: ago(30) }),
      want: ['pi', 'Running', '0/1 of 3', '30s', '3h30m'],
    },
    {
      name: 'a job not yet started has no duration',
      job: job({ completions: 1, parallelism: 1 }, {}),
      want: ['pi', 'Running', '0/1', '', '3h30m'],
    },
    {
      name: 'a failed job',
      job: job({ completions: 1 }, { failed: 6, startTime: ago(100), conditions: [{ type: 'Failed', status: 'True' }] }),
      want: ['pi', 'Failed', '0/1', '100s', '3h30m'],
    },
    {
      name: 'a job being deleted',
      job: job({ completions: 1 }, { startTime: ago(10) }, { deletionTimestamp: ago(1) }),
      want: ['pi', 'Terminating', '0/1', '10s', '3h30m'],
    },
    {
      name: 'a suspended job',
      job: job({ completions: 1, suspend: true }, { conditions: [{ type: 'Suspended', status: 'True' }] }),
      want: ['pi', 'Suspended', '0/1', '', '3h30m'],
    },
    {
      name: 'a job about to fail',
      job: job({ completions: 1 }, { conditions: [{ type: 'FailureTarget', status: 'True' }] }),
      want: ['pi', 'FailureTarget', '0/1', '', '3h30m'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(jobPrinter.row(c.job, ctx).cells.slice(0, 5), c.want));
  }

  test('wide cells show containers, images and selector', () => {
    assert.deepEqual(jobPrinter.row(job({}, {}), ctx).cells.slice(5), ['nginx,side', 'nginx:1.27,busybox', 'batch.kubernetes.io/controller-uid=abc']);
  });
});

describe('cron job printer', () => {
  test('prints schedule, time zone, suspend, active jobs and last schedule', () => {
    const cj = {
      metadata: meta('backup'),
      spec: { schedule: '*/5 * * * *', timeZone: 'Etc/UTC', suspend: false, jobTemplate: { spec: { template } } },
      status: { active: [{ name: 'backup-1' }], lastScheduleTime: ago(65) },
    };
    assert.deepEqual(cronJobPrinter.row(cj, ctx).cells, ['backup', '*/5 * * * *', 'Etc/UTC', 'False', 1, '65s', '3h30m', 'nginx,side', 'nginx:1.27,busybox', '<none>']);
  });

  test('a cron job never scheduled and without time zone', () => {
    const cj = { metadata: meta('backup'), spec: { schedule: '@hourly', jobTemplate: { spec: { template } } } };
    assert.deepEqual(cronJobPrinter.row(cj, ctx).cells.slice(1, 6), ['@hourly', '<none>', '<unset>', 0, '<none>']);
  });
});

describe('controller revision and scale printers', () => {
  test('a revision names its controller as kind.group/name', () => {
    const cr = {
      metadata: { ...meta('agent-7f9'), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', controller: true }] },
      revision: 2,
    };
    assert.deepEqual(controllerRevisionPrinter.row(cr, ctx).cells, ['agent-7f9', 'daemonset.apps/agent', 2, '3h30m']);
  });

  test('a revision without a controller prints <none>', () => {
    const cr = { metadata: { ...meta('orphan'), ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'x' }] }, revision: 1 };
    assert.equal(controllerRevisionPrinter.row(cr, ctx).cells[1], '<none>');
  });

  test('a scale prints desired and available replicas', () => {
    const s = { metadata: meta('web'), spec: { replicas: 4 }, status: { replicas: 3, selector: 'app=web' } };
    assert.deepEqual(scalePrinter.row(s, ctx).cells, ['web', 4, 3, '3h30m']);
  });
});
