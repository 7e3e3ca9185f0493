// Checks of the table entry points: the registry covers every built-in resource with a printer,
// every printer gives one cell per column even for bare objects, the default and custom resource
// printers, and noHeaders.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CRD_DEFAULT_COLUMNS, customResourcePrinter, defaultPrinter, printerFor, printTable, printTableWith } from './table.ts';
import { PRINTERS, SUBRESOURCE_PRINTERS } from './registry.ts';

const now = new Date('2024-05-01T12:00:00Z');
const created = '2024-05-01T11:55:00Z';

describe('registry', () => {
  test('covers every built-in resource upstream has a printer for', () => {
    const want = [
      '/pods', '/podtemplates', '/replicationcontrollers', '/services', '/endpoints', '/nodes', '/events', '/namespaces',
      '/secrets', '/serviceaccounts', '/configmaps', '/persistentvolumes', '/persistentvolumeclaims', '/componentstatuses',
      '/resourcequotas', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets',
      'apps/controllerrevisions', 'batch/jobs', 'batch/cronjobs', 'autoscaling/horizontalpodautoscalers',
      'networking.k8s.io/ingresses', 'networking.k8s.io/ingressclasses', 'networking.k8s.io/networkpolicies',
      'networking.k8s.io/servicecidrs', 'networking.k8s.io/ipaddresses', 'discovery.k8s.io/endpointslices',
      'policy/poddisruptionbudgets', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/clusterrolebindings',
      'storage.k8s.io/storageclasses', 'storage.k8s.io/volumeattributesclasses', 'storage.k8s.io/csidrivers',
      'storage.k8s.io/csinodes', 'storage.k8s.io/volumeattachments', 'coordination.k8s.io/leases', 'events.k8s.io/events',
      'scheduling.k8s.io/priorityclasses', 'node.k8s.io/runtimeclasses', 'certificates.k8s.io/certificatesigningrequests',
      'admissionregistration.k8s.io/mutatingwebhookconfigurations', 'admissionregistration.k8s.io/validatingwebhookconfigurations',
      'admissionregistration.k8s.io/validatingadmissionpolicies', 'admissionregistration.k8s.io/validatingadmissionpolicybindings',
      'apiregistration.k8s.io/apiservices',
    ];
    assert.deepEqual([...PRINTERS.keys()].sort(), [...want].sort());
  });

  test('resources upstream prints with the default convertor are left to it', () => {
    for (const [g, r] of [
      ['rbac.authorization.k8s.io', 'roles'],
      ['rbac.authorization.k8s.io', 'clusterroles'],
      ['', 'limitranges'],
      ['storage.k8s.io', 'csistoragecapacities'],
      ['apiextensions.k8s.io', 'customresourcedefinitions'],
      ['example.com', 'widgets'],
    ]) {
      assert.equal(printerFor(g, r), defaultPrinter, `${g}/${r}`);
    }
  });

  const printers = [...PRINTERS.entries(), ...[...SUBRESOURCE_PRINTERS.entries()].map(([k, p]) => [`subresource ${k}`, p] as const)];
  for (const [key, printer] of printers) {
    test(`${key} gives one cell per column, even for bare objects`, () => {
      for (const obj of [{}, { metadata: { name: 'x', creationTimestamp: created } }, { metadata: { name: 'x' }, spec: {}, status: {} }]) {
        const row = printer.row(obj, { now: now.getTime() });
        assert.equal(row.cells.length, printer.columns.length);
        for (const cell of row.cells) assert.ok(cell === null || ['string', 'number', 'boolean'].includes(typeof cell), `cell ${String(cell)}`);
      }
      assert.equal(printer.columns.filter((c) => c.format === 'name' && c.name === 'Name').length <= 1, true);
    });
  }
});

describe('printTable', () => {
  test('prints each object in order with the resource columns', () => {
    const t = printTable('', 'namespaces', [
      { metadata: { name: 'default', creationTimestamp: created }, status: { phase: 'Active' } },
      { metadata: { name: 'gone', creationTimestamp: created, deletionTimestamp: created }, status: { phase: 'Terminating' } },
    ], { now });
    assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'Status', 'Age']);
    assert.deepEqual(t.rows, [{ cells: ['default', 'Active', '5m'] }, { cells: ['gone', 'Terminating', '5m'] }]);
  });

  test('noHeaders leaves out the column definitions, except for API services', () => {
    assert.deepEqual(printTable('', 'namespaces', [], { now, noHeaders: true }).columnDefinitions, []);
    assert.equal(printTable('apiregistration.k8s.io', 'apiservices', [], { now, noHeaders: true }).columnDefinitions.length, 4);
  });

  test('row conditions are carried over', () => {
    const t = printTable('', 'pods', [{ metadata: { name: 'done' }, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded' } }], { now });
    assert.equal(t.rows[0].conditions?.[0]?.type, 'Completed');
  });

  test('the default printer shows NAME and CREATED AT as RFC 3339', () => {
    const t = printTable('rbac.authorization.k8s.io', 'clusterroles', [
      { metadata: { name: 'view', creationTimestamp: '2024-04-30T08:15:00.123Z' } },
      { metadata: { name: 'new' } },
    ], { now });
    assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', '']]);
    assert.deepEqual(t.rows.map((r) => r.cells), [['view', '2024-04-30T08:15:00Z'], ['new', '0001-01-01T00:00:00Z']]);
  });

  test('the result is plain JSON', () => {
    const t = printTable('apps', 'deployments', [{ metadata: { name: 'web', creationTimestamp: created }, spec: { replicas: 2 } }], { now });
    assert.deepEqual(JSON.parse(JSON.stringify(t)), t);
  });
});

describe('customResourcePrinter', () => {
  const widget = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1', creationTimestamp: created },
    spec: { size: 3.7, color: 'blue', enabled: true, labels: { b: '2', a: '1' }, 'dotted.key': 'x', ports: [{ port: 80 }, { port: 443 }] },
    status: { lastRun: '2024-05-01T11:59:00Z', ratio: 0.25 },
  };

  test('without printer columns it shows NAME and AGE', () => {
    const p = customResourcePrinter([]);
    assert.deepEqual(p.columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
    assert.deepEqual(printTableWith(p, [widget], { now }).rows[0].cells, ['w1', '5m']);
    assert.equal(CRD_DEFAULT_COLUMNS[0].jsonPath, '.metadata.creationTimestamp');
  });

  test('evaluates simple JSONPaths and converts cells by column type', () => {
    const p = customResourcePrinter([
      { name: 'Color', type: 'string', jsonPath: '.spec.color' },
      { name: 'Size', type: 'integer', jsonPath: '.spec.size', priority: 1 },
      { name: 'Ratio', type: 'number', jsonPath: '.status.ratio' },
      { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
      { name: 'Last Run', type: 'date', jsonPath: '.status.lastRun', description: 'When it last ran.' },
      { name: 'Labels', type: 'string', jsonPath: '.spec.labels' },
      { name: 'Second Port', type: 'integer', jsonPath: '.spec.ports[1].port' },
      { name: 'Dotted', type: 'string', jsonPath: ".spec['dotted.key']" },
      { name: 'Missing', type: 'string', jsonPath: '.spec.nothing' },
      { name: 'Wrong Type', type: 'boolean', jsonPath: '.spec.color' },
      { name: 'Filter', type: 'string', jsonPath: '.spec.ports[?(@.port==80)].port' },
    ]);
    assert.deepEqual(printTableWith(p, [widget], { now }).rows[0].cells, ['w1', 'blue', 3, 0.25, true, '60s', '{"a":"1","b":"2"}', 443, 'x', null, null, null]);
    assert.equal(p.columns[2].priority, 1);
    assert.equal(p.columns[5].description, 'When it last ran.');
    assert.equal(p.columns[1].description, 'Custom resource definition column (in JSONPath format): .spec.color');
  });

  test('a date column with a bad timestamp reads <invalid>', () => {
    const p = customResourcePrinter([{ name: 'When', type: 'date', jsonPath: '.spec.color' }]);
    assert.deepEqual(printTableWith(p, [widget], { now }).rows[0].cells, ['w1', '<invalid>']);
  });
});
