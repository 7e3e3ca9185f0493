// Unit tests of whether a webhook is called (ShouldCallHook) as far as its matchConditions
// decide: their own cost budget (upstream's RuntimeCELCostBudgetMatchConditions), and a spent
// budget failing the request alone under failurePolicy Fail or skipping the webhook under Ignore.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OUT_OF_BUDGET, PER_CALL_LIMIT, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS } from '../../../api/cel/cost.ts';
import { applyDefaults } from '../../../api/defaults/registry.ts';
import type { KObject } from '../../registry/strategy.ts';
import { ApiError } from '../../errors.ts';
import { attrs, FakeLister } from '../fake_lister.ts';
import { shouldCallHook } from './dispatch.ts';
import { WebhookSource, type WebhookAccessor } from './source.ts';

/** Costs ceil(9501 * 0.1)^2 = 904,401 (cel-go's contains cost) plus a few steps: under the per-call limit. */
const COSTLY = 'object.data.s.contains(object.data.s)';
const COSTLY_EACH = 904_401;

let uid = 0;

function hook(failurePolicy: 'Fail' | 'Ignore', conditions: readonly string[]): WebhookAccessor {
  const config: KObject = {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration',
    metadata: { name: `c${++uid}`, uid: `u${uid}`, resourceVersion: '1' },
    webhooks: [{
      name: 'budget.example.com', failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'],
      // never reached: every request here is decided by the matchConditions
      clientConfig: { url: 'https://127.0.0.1:1/' },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
      matchConditions: conditions.map((expression, i) => ({ name: `c${i}`, expression })),
    }],
  };
  applyDefaults('admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', config);
  const lister = new FakeLister().add('admissionregistration.k8s.io', 'validatingwebhookconfigurations', config);
  const [h] = new WebhookSource('validatingwebhookconfigurations').webhooks(lister);
  assert.ok(h);
  for (const c of h.matchConditions) assert.equal(c.compiled.error, undefined, c.compiled.error?.detail);
  return h;
}

function request(): ReturnType<typeof attrs> {
  const cm: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'default' }, data: { s: 'x'.repeat(9500) } };
  return attrs('CREATE', '', 'configmaps', cm);
}

describe('webhook matchConditions cost budget', () => {
  test('the conditions of one webhook share a budget of their own, smaller than a policy evaluation\'s', async () => {
    assert.ok(COSTLY_EACH < PER_CALL_LIMIT);
    assert.ok(2 * COSTLY_EACH < RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS && 3 * COSTLY_EACH > RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS);
    const inv = await shouldCallHook(hook('Fail', [COSTLY, COSTLY]), request(), new FakeLister(), undefined);
    assert.equal(inv?.hook.name, 'budget.example.com', 'two costly conditions fit the budget');
    // Each webhook starts afresh: the budget is per match, not per request.
    const again = await shouldCallHook(hook('Fail', [COSTLY, COSTLY]), request(), new FakeLister(), undefined);
    assert.equal(again?.hook.name, 'budget.example.com');
  });

  test('failurePolicy Fail: a spent budget forbids the request with the budget error alone', async () => {
    await assert.rejects(shouldCallHook(hook('Fail', [COSTLY, COSTLY, COSTLY, 'true']), request(), new FakeLister(), undefined), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status.code, 403);
      assert.equal(e.status.reason, 'Forbidden');
      assert.equal(e.message, `configmaps "big" is forbidden: ${OUT_OF_BUDGET}`);
      assert.deepEqual(e.status.details, { name: 'big', kind: 'configmaps' });
      return true;
    });
  });

  test('failurePolicy Ignore: a spent budget skips the webhook', async () => {
    assert.equal(await shouldCallHook(hook('Ignore', [COSTLY, COSTLY, COSTLY]), request(), new FakeLister(), undefined), undefined);
  });

  test('every condition is evaluated before any decides: a spent budget wins over a false condition, wherever it stands', async () => {
    for (const conditions of [['false', COSTLY, COSTLY, COSTLY], [COSTLY, COSTLY, COSTLY, 'false']]) {
      await assert.rejects(shouldCallHook(hook('Fail', conditions), request(), new FakeLister(), undefined),
        { message: `configmaps "big" is forbidden: ${OUT_OF_BUDGET}` });
    }
    assert.equal(await shouldCallHook(hook('Fail', ['false', COSTLY, COSTLY]), request(), new FakeLister(), undefined), undefined);
  });
});
