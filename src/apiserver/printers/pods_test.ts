// Table-driven checks of the pod printer: READY, STATUS and RESTARTS as kubectl shows them, and
// the -o wide cells; plus the pod template printer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from './format.ts';
import { podPrinter, podTemplatePrinter } from './pods.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
function ago(seconds: number): string {
  return new Date(NOW - seconds * 1000).toISOString();
}

/** A pod created 10 minutes ago with the given spec and status. */
function pod(spec: object, status: object, metadata: object = {}): KObject {
  return { metadata: { name: 'web', creationTimestamp: ago(600), ...metadata }, spec, status };
}

const running = { running: { startedAt: ago(300) } };
const oneContainer = { containers: [{ name: 'app', image: 'nginx' }] };
const twoContainers = { containers: [{ name: 'app', image: 'nginx' }, { name: 'log', image: 'busybox' }] };

/** NAME READY STATUS RESTARTS AGE of a pod. */
function summary(p: KObject): unknown[] {
  return podPrinter.row(p, ctx).cells.slice(0, 5);
}

describe('pod printer', () => {
  const cases: { name: string; pod: KObject; want: unknown[] }[] = [
    {
      name: 'a running pod with every container ready',
      pod: pod(oneContainer, { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }] }),
      want: ['web', '1/1', 'Running', '0', '10m'],
    },
    {
      name: 'two containers, one ready, three restarts two minutes ago',
      pod: pod(twoContainers, {
        phase: 'Running',
        containerStatuses: [
          { name: 'app', ready: true, restartCount: 0, state: running },
          {
            name: 'log',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(120) } },
          },
        ],
      }),
      want: ['web', '1/2', 'CrashLoopBackOff', '3 (2m ago)', '10m'],
    },
    {
      name: 'restarts without a recorded finish time show the count only',
      pod: pod(oneContainer, { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 3, state: running }] }),
      want: ['web', '1/1', 'Running', '3', '10m'],
    },
    {
      name: 'a pod whose container is being created',
      pod: pod(oneContainer, { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }),
      want: ['web', '0/1', 'ContainerCreating', '0', '10m'],
    },
    {
      name: 'a pending pod without statuses shows its phase',
      pod: pod(oneContainer, { phase: 'Pending' }),
      want: ['web', '0/1', 'Pending', '0', '10m'],
    },
    {
      name: 'a scheduling-gated pod',
      pod: pod(oneContainer, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
      want: ['web', '0/1', 'SchedulingGated', '0', '10m'],
    },
    {
      name: 'a running pod being deleted is Terminating',
      pod: pod(
        oneContainer,
        { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }] },
        { deletionTimestamp: ago(-30) },
      ),
      want: ['web', '1/1', 'Terminating', '0', '10m'],
    },
    {
      name: 'a deleted pod on a lost node is Unknown',
      pod: pod(oneContainer, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(5) }),
      want: ['web', '0/1', 'Unknown', '0', '10m'],
    },
    {
      name: 'a succeeded pod being deleted stays Completed',
      pod: pod(
        oneContainer,
        { phase: 'Succeeded', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
        { deletionTimestamp: ago(5) },
      ),
      want: ['web', '0/1', 'Completed', '0', '10m'],
    },
    {
      name: 'an evicted pod shows the eviction reason',
      pod: pod(oneContainer, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      want: ['web', '0/1', 'Evicted', '0', '10m'],
    },
    {
      name: 'a container killed without a reason shows its exit code',
      pod: pod(oneContainer, { phase: 'Failed', containerStatuses: [{ name: 'app', restartCount: 0, state: { terminated: { exitCode: 137 } } }] }),
      want: ['web', '0/1', 'ExitCode:137', '0', '10m'],
    },
    {
      name: 'a container killed by a signal without a reason shows the signal',
      pod: pod(oneContainer, { phase: 'Failed', containerStatuses: [{ name: 'app', restartCount: 0, state: { terminated: { exitCode: 137, signal: 9 } } }] }),
      want: ['web', '0/1', 'Signal:9', '0', '10m'],
    },
    {
      name: 'the first container state wins over later ones',
      pod: pod(twoContainers, {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } },
          { name: 'log', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      }),
      want: ['web', '0/2', 'ErrImagePull', '0', '10m'],
    },
    {
      name: 'a Completed container beside a running one reads Running when the pod is Ready',
      pod: pod(twoContainers, {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'log', ready: true, restartCount: 0, state: running },
        ],
      }),
      want: ['web', '1/2', 'Running', '0', '10m'],
    },
    {
      name: 'a Completed container beside a running one reads NotReady otherwise',
      pod: pod(twoContainers, {
        phase: 'Running',
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'log', ready: true, restartCount: 0, state: running },
        ],
      }),
      want: ['web', '1/2', 'NotReady', '0', '10m'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(summary(c.pod), c.want));
  }

  const initSpec = { initContainers: [{ name: 'init', image: 'busybox' }], ...oneContainer };
  const initCases: { name: string; init: object; main?: object; want: string }[] = [
    { name: 'an init container not yet started', init: { state: { waiting: {} } }, want: 'Init:0/1' },
    { name: 'an init container waiting on PodInitializing', init: { state: { waiting: { reason: 'PodInitializing' } } }, want: 'Init:0/1' },
    { name: 'an init container running', init: { state: running }, want: 'Init:0/1' },
    { name: 'an init container pulling its image', init: { state: { waiting: { reason: 'ImagePullBackOff' } } }, want: 'Init:ImagePullBackOff' },
    { name: 'an init container that failed with a reason', init: { state: { terminated: { exitCode: 1, reason: 'Error' } } }, want: 'Init:Error' },
    { name: 'an init container that failed without a reason', init: { state: { terminated: { exitCode: 2 } } }, want: 'Init:ExitCode:2' },
    { name: 'an init container killed by a signal', init: { state: { terminated: { exitCode: 137, signal: 9 } } }, want: 'Init:Signal:9' },
    {
      name: 'init done, main container initializing',
      init: { state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      main: { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
      want: 'PodInitializing',
    },
  ];
  for (const c of initCases) {
    test(`${c.name} reads ${c.want}`, () => {
      const p = pod(initSpec, {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, ...c.init }],
        containerStatuses: c.main ? [c.main] : [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
      });
      assert.equal(podPrinter.row(p, ctx).cells[2], c.want);
    });
  }

  test('the second of three init containers reads Init:1/3', () => {
    const spec = { initContainers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], ...oneContainer };
    const p = pod(spec, {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'a', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'b', restartCount: 0, state: running },
        { name: 'c', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
      ],
    });
    assert.equal(podPrinter.row(p, ctx).cells[2], 'Init:1/3');
  });

  test('restarts of a crashing init container count while the pod initializes', () => {
    const p = pod(initSpec, {
      phase: 'Pending',
      initContainerStatuses: [
        {
          name: 'init',
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } },
        },
      ],
    });
    assert.deepEqual(summary(p), ['web', '0/1', 'Init:CrashLoopBackOff', '2 (30s ago)', '10m']);
  });

  test('a started sidecar counts as a container and its restarts stay counted', () => {
    const spec = { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }, { name: 'setup' }], ...oneContainer };
    const p = pod(spec, {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [
        { name: 'proxy', ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(200) } } },
        { name: 'setup', ready: false, restartCount: 4, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }],
    });
    assert.deepEqual(summary(p), ['web', '2/2', 'Running', '1 (3m20s ago)', '10m']);
  });

  test('a succeeded pod marks its row Completed', () => {
    const p = pod(oneContainer, { phase: 'Succeeded', containerStatuses: [{ name: 'app', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] });
    assert.deepEqual(podPrinter.row(p, ctx).conditions, [
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
  });

  test('a failed pod marks its row Completed with reason Failed', () => {
    const row = podPrinter.row(pod(oneContainer, { phase: 'Failed' }), ctx);
    assert.equal(row.conditions?.[0]?.reason, 'Failed');
    assert.equal(podPrinter.row(pod(oneContainer, { phase: 'Running' }), ctx).conditions, undefined);
  });

  test('wide cells show IP, node, nominated node and readiness gates', () => {
    const spec = { ...oneContainer, nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/a' }, { conditionType: 'example.com/b' }] };
    const p = pod(spec, {
      phase: 'Running',
      podIP: '10.42.0.5',
      podIPs: [{ ip: '10.42.0.5' }, { ip: 'fd00::5' }],
      conditions: [
        { type: 'example.com/a', status: 'True' },
        { type: 'example.com/b', status: 'False' },
      ],
    });
    assert.deepEqual(podPrinter.row(p, ctx).cells.slice(5), ['10.42.0.5', 'node-1', '<none>', '1/2']);
  });

  test('wide cells of an unscheduled pod are <none>', () => {
    const p = pod(oneContainer, { phase: 'Pending', nominatedNodeName: 'node-2' });
    assert.deepEqual(podPrinter.row(p, ctx).cells.slice(5), ['<none>', '<none>', 'node-2', '<none>']);
  });

  test('the column names and priorities are upstream\'s', () => {
    assert.deepEqual(
      podPrinter.columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Ready', 'string', 0],
        ['Status', 'string', 0],
        ['Restarts', 'string', 0],
        ['Age', 'string', 0],
        ['IP', 'string', 1],
        ['Node', 'string', 1],
        ['Nominated Node', 'string', 1],
        ['Readiness Gates', 'string', 1],
      ],
    );
    assert.equal(podPrinter.columns[0].format, 'name');
  });
});

describe('pod template printer', () => {
  test('lists containers, images and pod labels', () => {
    const pt = {
      metadata: { name: 'tpl' },
      template: { metadata: { labels: { tier: 'web', app: 'shop' } }, spec: twoContainers },
    };
    assert.deepEqual(podTemplatePrinter.row(pt, ctx).cells, ['tpl', 'app,log', 'nginx,busybox', 'app=shop,tier=web']);
  });
});
