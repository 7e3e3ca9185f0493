// Tests of ClusterRole aggregation: union of the rules of selected roles, in name order, without
// duplicates or the role itself, settled through nested aggregation (view into edit into admin).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, PolicyRule } from '../../api/types/rbac_v1.ts';
import { aggregateClusterRoles, aggregatedRules } from './aggregation.ts';
import { bootstrapPolicy } from './bootstrap_policy.ts';

const r = (resource: string, verbs = ['get']): PolicyRule => ({ verbs, apiGroups: [''], resources: [resource] });

function cr(name: string, labels: Record<string, string>, rules: PolicyRule[], selectors?: Array<Record<string, string>>): ClusterRole {
  const role: ClusterRole = { metadata: { name, labels }, rules };
  if (selectors !== undefined) role.aggregationRule = { clusterRoleSelectors: selectors.map((m) => ({ matchLabels: m })) };
  return role;
}

describe('aggregatedRules', () => {
  test('unions the rules of matching roles in name order, each rule once', () => {
    const target = cr('agg', {}, [], [{ team: 'a' }]);
    const all = [target, cr('zeta', { team: 'a' }, [r('pods'), r('secrets')]), cr('alpha', { team: 'a' }, [r('pods')]), cr('other', { team: 'b' }, [r('nodes')])];
    assert.deepEqual(aggregatedRules(target, all), [r('pods'), r('secrets')]);
  });

  test('leaves out the role itself even when it matches its own selector', () => {
    const target = cr('self', { team: 'a' }, [r('old')], [{ team: 'a' }]);
    assert.deepEqual(aggregatedRules(target, [target, cr('x', { team: 'a' }, [r('pods')])]), [r('pods')]);
  });

  test('applies selectors in order', () => {
    const target = cr('agg', {}, [], [{ k: '2' }, { k: '1' }]);
    const all = [target, cr('a', { k: '1' }, [r('one')]), cr('b', { k: '2' }, [r('two')])];
    assert.deepEqual(aggregatedRules(target, all), [r('two'), r('one')]);
  });

  test('is undefined for a role without aggregationRule and throws on a bad selector', () => {
    assert.equal(aggregatedRules(cr('plain', {}, [r('pods')]), []), undefined);
    const bad: ClusterRole = { metadata: { name: 'bad' }, aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Nope' }] }] } };
    assert.throws(() => aggregatedRules(bad, [bad]));
  });
});

describe('aggregateClusterRoles', () => {
  test('fills admin, edit and view of the bootstrap policy through nested aggregation', () => {
    const roles = bootstrapPolicy().clusterRoles;
    const changed = aggregateClusterRoles(roles);
    assert.deepEqual([...changed.keys()].sort(), ['admin', 'edit', 'view']);
    const byName = new Map(roles.map((x) => [x.metadata!.name!, x]));
    const view = changed.get('view')!;
    assert.deepEqual(view, byName.get('system:aggregate-to-view')!.rules);
    const edit = changed.get('edit')!;
    assert.equal(edit.length, byName.get('system:aggregate-to-edit')!.rules!.length + view.length);
    const admin = changed.get('admin')!;
    assert.equal(admin.length, byName.get('system:aggregate-to-admin')!.rules!.length + edit.length);
  });

  test('a custom role labelled aggregate-to-view reaches view, edit and admin', () => {
    const crontab = cr('crontab-reader', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [
      { verbs: ['get', 'list', 'watch'], apiGroups: ['stable.example.com'], resources: ['crontabs'] },
    ]);
    const changed = aggregateClusterRoles([...bootstrapPolicy().clusterRoles, crontab]);
    for (const name of ['view', 'edit', 'admin']) {
      assert.ok(changed.get(name)!.some((x) => x.resources?.[0] === 'crontabs'), `${name} gets the crontab rule`);
    }
  });

  test('reports nothing when every aggregated role is already up to date', () => {
    const first = bootstrapPolicy().clusterRoles;
    const changed = aggregateClusterRoles(first);
    const settled = first.map((x) => (changed.has(x.metadata!.name!) ? { ...x, rules: changed.get(x.metadata!.name!)! } : x));
    assert.equal(aggregateClusterRoles(settled).size, 0);
  });

  test('skips a role with an invalid selector and settles the rest', () => {
    const bad: ClusterRole = { metadata: { name: 'bad' }, aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Nope' }] }] } };
    const good = cr('good', {}, [], [{ a: 'b' }]);
    const changed = aggregateClusterRoles([bad, good, cr('src', { a: 'b' }, [r('pods')])]);
    assert.deepEqual([...changed.entries()], [['good', [r('pods')]]]);
  });
});
