// Unit tests of ClusterRole aggregation over a cache filled by hand and a recording client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole } from '../../api/types/rbac_v1.ts';
import { ClusterRoleAggregationController, aggregatedRules } from './clusterrole_aggregation_controller.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

function setup(): { c: ClusterRoleAggregationController; api: RecordingClient } {
  const api = new RecordingClient();
  const ctx = fakeControllerContext(api, { rootCaPem: 'CA' });
  return { c: new ClusterRoleAggregationController(ctx), api };
}

const LABEL = 'rbac.example.com/aggregate-to-monitoring';

function role(name: string, labels: Record<string, string>, rules: ClusterRole['rules'], aggregate = false): ClusterRole {
  return {
    metadata: { name, labels },
    rules,
    ...(aggregate ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [LABEL]: 'true' } }] } } : {}),
  };
}

describe('ClusterRole aggregation', () => {
  test('gathers the rules of the selected roles by name, each rule once, itself excluded', () => {
    const monitoring = role('monitoring', { [LABEL]: 'true' }, [], true);
    const all = [
      monitoring,
      role('z-pods', { [LABEL]: 'true' }, [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
      role('a-svc', { [LABEL]: 'true' }, [{ apiGroups: [''], resources: ['services'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
      role('unrelated', {}, [{ apiGroups: [''], resources: ['secrets'], verbs: ['*'] }]),
    ];
    assert.deepEqual(aggregatedRules(monitoring, all), [
      { apiGroups: [''], resources: ['services'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
    assert.equal(aggregatedRules(all[1]!, all), undefined);
  });

  test('writes changed rules and leaves settled roles alone', async () => {
    const { c, api } = setup();
    c.clusterRoles.indexer.add(role('monitoring', {}, [], true));
    c.clusterRoles.indexer.add(role('pods', { [LABEL]: 'true' }, [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]));
    await c.sync('monitoring');
    assert.equal(api.calls.length, 1);
    assert.equal(api.calls[0]!.method, 'PUT');
    assert.equal(api.calls[0]!.path, '/apis/rbac.authorization.k8s.io/v1/clusterroles/monitoring');
    assert.deepEqual(api.calls[0]!.body.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
    c.clusterRoles.indexer.update(api.calls[0]!.body);
    await c.sync('monitoring');
    await c.sync('pods');
    assert.equal(api.calls.length, 1);
    await c.dispose();
  });
});
