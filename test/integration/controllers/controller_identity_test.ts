// Every controller the manager runs has a ServiceAccount with a role in the bootstrap policy, so
// `tkube server` (--use-service-account-credentials) never leaves a controller without rights. A
// new controller fails here until it is given its identity in service_account_clients.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapPolicy } from '../../../src/apiserver/authz/bootstrap_policy.ts';
import { registeredControllers } from '../../../src/controllers/registry.ts';
import { CONTROLLER_SERVICE_ACCOUNTS } from '../../../src/controllers/service_account_clients.ts';
import '../../../src/controllers/all.ts';

describe('controller identities', () => {
  test('each registered controller acts as a ServiceAccount bound to a system:controller role', () => {
    const policy = bootstrapPolicy();
    const boundSAs = new Set<string>();
    for (const b of [...policy.clusterRoleBindings, ...policy.roleBindings]) {
      for (const s of b.subjects ?? []) if (s.kind === 'ServiceAccount' && s.namespace === 'kube-system') boundSAs.add(s.name);
    }
    for (const c of registeredControllers()) {
      const sa = CONTROLLER_SERVICE_ACCOUNTS[c.name];
      assert.ok(sa, `controller ${c.name} has no ServiceAccount in CONTROLLER_SERVICE_ACCOUNTS`);
      assert.ok(boundSAs.has(sa), `ServiceAccount kube-system/${sa} of controller ${c.name} is bound to no role of the bootstrap policy`);
    }
  });
});
