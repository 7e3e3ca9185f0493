// Checks of the horizontal pod autoscaler printer's TARGETS for each metric kind, in autoscaling/v2
// and autoscaling/v1 objects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from './format.ts';
import { horizontalPodAutoscalerPrinter } from './autoscaling.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ctx = { now: NOW };
const created = new Date(NOW - 50 * 24 * 3600 * 1000).toISOString();

function hpa(spec: object, status: object, apiVersion = 'autoscaling/v2'): KObject {
  return {
    apiVersion,
    metadata: { name: 'web', creationTimestamp: created },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, ...spec },
    status: { currentReplicas: 3, ...status },
  };
}

const cpu80 = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } };

describe('horizontal pod autoscaler printer', () => {
  test('a CPU utilization target with its current value', () => {
    const h = hpa({ metrics: [cpu80] }, { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 42, averageValue: '210m' } } }] });
    assert.deepEqual(horizontalPodAutoscalerPrinter.row(h, ctx).cells, ['web', 'Deployment/web', 'cpu: 42%/80%', '1', 10, 3, '50d']);
  });

  test('metrics not measured yet read <unknown>', () => {
    const h = hpa({ metrics: [cpu80] }, {});
    assert.equal(horizontalPodAutoscalerPrinter.row(h, ctx).cells[2], 'cpu: <unknown>/80%');
  });

  test('no metrics read <none> and no minReplicas reads <unset>', () => {
    const h = hpa({ minReplicas: undefined }, {});
    assert.deepEqual(horizontalPodAutoscalerPrinter.row(h, ctx).cells.slice(2, 4), ['<none>', '<unset>']);
  });

  test('each metric kind, with "+ N more..." past two', () => {
    const specs = [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
      { type: 'Object', object: { metric: { name: 'hits' }, target: { type: 'Value', value: '2k' } } },
    ];
    const statuses = [
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '7' } } },
    ];
    const h = hpa({ metrics: specs }, { currentMetrics: statuses });
    assert.equal(horizontalPodAutoscalerPrinter.row(h, ctx).cells[2], 'memory: 300Mi/500Mi, 7/10 + 1 more...');
  });

  const single: [string, object, object | undefined, string][] = [
    ['an object value', { type: 'Object', object: { target: { type: 'Value', value: '2k' } } }, { type: 'Object', object: { current: { value: '1500' } } }, '1500/2k'],
    ['an object average', { type: 'Object', object: { target: { type: 'AverageValue', averageValue: '100' } } }, undefined, '<unknown>/100 (avg)'],
    ['an external average', { type: 'External', external: { target: { type: 'AverageValue', averageValue: '30' } } }, { type: 'External', external: { current: { averageValue: '12' } } }, '12/30 (avg)'],
    ['an external value', { type: 'External', external: { target: { type: 'Value', value: '5' } } }, undefined, '<unknown>/5'],
    ['a container resource', { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization' } } }, undefined, 'cpu: <unknown>/<auto>'],
    ['an unknown type', { type: 'Custom' }, undefined, '<unknown type>'],
  ];
  for (const [name, spec, status, want] of single) {
    test(`${name} reads ${want}`, () => {
      const h = hpa({ metrics: [spec] }, status ? { currentMetrics: [status] } : {});
      assert.equal(horizontalPodAutoscalerPrinter.row(h, ctx).cells[2], want);
    });
  }

  test('an autoscaling/v1 object prints its CPU target as a v2 metric', () => {
    const h = hpa({ targetCPUUtilizationPercentage: 50 }, { currentCPUUtilizationPercentage: 20 }, 'autoscaling/v1');
    assert.equal(horizontalPodAutoscalerPrinter.row(h, ctx).cells[2], 'cpu: 20%/50%');
    const none = hpa({}, {}, 'autoscaling/v1');
    assert.equal(horizontalPodAutoscalerPrinter.row(none, ctx).cells[2], '<none>');
  });
});
