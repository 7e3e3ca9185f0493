// The ClusterRole aggregation controller (upstream pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule gets, in its stored rules, the union of the rules of the
// ClusterRoles its selectors match, so `kubectl describe clusterrole admin` shows what admin grants.
import { logger } from '../../base/log.ts';
import { compareGoStrings } from '../../api/go_strings.ts';
import { labelSelectorAsSelector, matches } from '../../api/labels.ts';
import type { ClusterRole, PolicyRule } from '../../api/types/rbac_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import type { HandlerRegistration, SharedIndexInformer } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { runWorkers } from '../controller_utils.ts';

const log = logger('clusterrole-aggregation-controller');

const RULE_FIELDS = ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const;

/** Semantic equality of two rules: the same lists in the same order, an empty list equal to none. */
export function ruleEqual(a: PolicyRule, b: PolicyRule): boolean {
  return RULE_FIELDS.every((f) => {
    const x = a[f] ?? [];
    const y = b[f] ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

/**
 * The rules an aggregating ClusterRole should hold: per selector, the matching roles by name
 * (itself excluded), their rules in order, each distinct rule once. Undefined without an aggregationRule.
 */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  if (role.aggregationRule === undefined || role.aggregationRule === null) return undefined;
  const out: PolicyRule[] = [];
  for (const ls of role.aggregationRule.clusterRoleSelectors ?? []) {
    const sel = labelSelectorAsSelector(ls);
    const picked = all.filter((r) => matches(sel, r.metadata?.labels))
      .sort((a, b) => compareGoStrings(a.metadata?.name ?? '', b.metadata?.name ?? ''));
    for (const r of picked) {
      if (r.metadata?.name === role.metadata?.name) continue;
      for (const rule of r.rules ?? []) if (!out.some((x) => ruleEqual(x, rule))) out.push(rule);
    }
  }
  return out;
}

/** Keeps aggregated ClusterRoles' rules up to date. */
export class ClusterRoleAggregationController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly clusterRoles: SharedIndexInformer<ClusterRole>;
  #client: ResourceClient<ClusterRole>;
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext) {
    const desc = resourceDescriptor('rbac.authorization.k8s.io/v1', 'clusterroles');
    this.queue = new RateLimitingQueue<string>({ name: 'ClusterRoleAggregator', clock: ctx.clock });
    this.clusterRoles = ctx.informers.informerFor<ClusterRole>(desc);
    this.#client = ctx.client.resource<ClusterRole>(desc);
    // Any ClusterRole change may touch any aggregation; there are few aggregating roles, so queue them all.
    const all = (): void => this.#enqueueAll();
    this.#handlers.push(this.clusterRoles.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all }));
  }

  #enqueueAll(): void {
    for (const r of this.clusterRoles.lister.list()) {
      if (r.aggregationRule && r.metadata?.name) this.queue.add(r.metadata.name);
    }
  }

  run(workers: number): void {
    void runWorkers(this.queue, workers, (key) => this.sync(key), (key, err) => log.warn('sync failed, will retry', { clusterRole: key, err }));
  }

  /** Writes the aggregated rules of one ClusterRole when they differ from its stored rules. */
  async sync(name: string): Promise<void> {
    const role = this.clusterRoles.lister.get('', name);
    if (!role) return;
    const rules = aggregatedRules(role, this.clusterRoles.lister.list());
    if (rules === undefined) return;
    const current = role.rules ?? [];
    if (rules.length === current.length && rules.every((r, i) => ruleEqual(r, current[i]!))) return;
    try {
      await this.#client.update({ ...structuredClone(role), rules });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

registerController('clusterrole-aggregation', (ctx) => new ClusterRoleAggregationController(ctx), 5);
