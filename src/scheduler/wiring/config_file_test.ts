// The --scheduler-config loader: files and decoded objects give the same configuration, defaults
// apply without one, and bad files fail naming the file and the field.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSchedulerConfig } from './config_file.ts';

describe('loadSchedulerConfig', () => {
  test('reads a YAML file with profiles and percentageOfNodesToScore', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sched-config-'));
    try {
      const path = join(dir, 'config.yaml');
      await writeFile(path, [
        'apiVersion: kubescheduler.config.k8s.io/v1', 'kind: KubeSchedulerConfiguration', 'percentageOfNodesToScore: 30',
        'profiles:', '- schedulerName: default-scheduler', '- schedulerName: packer', '  plugins:', '    score:', '      disabled:',
        '      - name: ImageLocality', '',
      ].join('\n'));
      const c = await loadSchedulerConfig(path);
      assert.equal(c.percentageOfNodesToScore, 30);
      assert.deepEqual(c.profiles.map((p) => p.schedulerName), ['default-scheduler', 'packer']);
      assert.deepEqual(c.profiles[1]!.plugins.score?.disabled, [{ name: 'ImageLocality' }]);
      assert.equal(c.leaderElection.resourceName, 'kube-scheduler');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('takes a decoded object, and defaults without a source', async () => {
    const c = await loadSchedulerConfig({ apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration', podMaxBackoffSeconds: 20 });
    assert.equal(c.podMaxBackoffSeconds, 20);
    const d = await loadSchedulerConfig(undefined);
    assert.deepEqual([d.podInitialBackoffSeconds, d.podMaxBackoffSeconds, d.profiles.length], [1, 10, 1]);
  });

  test('errors name the file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sched-config-'));
    try {
      const path = join(dir, 'bad.yaml');
      await writeFile(path, 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 120\n');
      await assert.rejects(loadSchedulerConfig(path), (err: Error) => err.message.includes(path) && err.message.includes('percentageOfNodesToScore'));
      await assert.rejects(loadSchedulerConfig(join(dir, 'missing.yaml')), /failed to read scheduler config file .*missing\.yaml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
