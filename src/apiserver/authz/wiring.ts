// Puts RBAC into the running server: the authorizer chain (system:masters, then RBAC), an RBAC
// source fed by the watch caches of the four RBAC resources (with ClusterRole aggregation applied
// in memory), the escalation checks on RBAC writes, and the bootstrap policy reconciled at start.
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { resourceFor } from '../../api/resource_table.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { ApiError, newForbidden } from '../errors.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import type { AdmissionAttributes } from '../admission/types.ts';
import type { Attributes, Authorizer, Decision } from './authorizer.ts';
import { MemoryRbacSource, RbacAuthorizer, RBAC_GROUP, type RbacKind } from './rbac.ts';
import { aggregateClusterRoles } from './aggregation.ts';
import { bindAllowed, hasAggregationRule, isOnlyMutatingGCFields, roleWriteAllowed, SYSTEM_PRIVILEGED_GROUP, type EscalationCheck } from './escalation.ts';
import { bootstrapPolicy, reconcileBinding, reconcileRole } from './bootstrap_policy.ts';

const log = logger('rbac');

const KINDS: ReadonlyArray<[resource: string, kind: RbacKind]> = [
  ['roles', 'Role'], ['rolebindings', 'RoleBinding'], ['clusterroles', 'ClusterRole'], ['clusterrolebindings', 'ClusterRoleBinding'],
];

/** A MemoryRbacSource whose ClusterRoles carry their aggregated rules (as the aggregation controller writes them). */
class AggregatingSource extends MemoryRbacSource {
  #raw = new Map<string, KObject>();
  #dirty = true;

  setClusterRole(name: string, obj: KObject | undefined): void {
    if (obj) this.#raw.set(name, obj);
    else this.#raw.delete(name);
    this.#dirty = true;
  }

  /** Re-applies aggregation when ClusterRoles changed (lazily, on the next check). */
  refresh(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const roles = [...this.#raw.values()] as never[];
    const aggregated = aggregateClusterRoles(roles);
    for (const [name, obj] of this.#raw) {
      const rules = aggregated.get(name);
      this.upsert('ClusterRole', (rules ? { ...obj, rules } : obj) as never);
    }
  }

  override getClusterRole(name: string): ReturnType<MemoryRbacSource['getClusterRole']> {
    this.refresh();
    return super.getClusterRole(name);
  }
}

/** The server's authorization: the chain, the source behind it, and the write checks. */
export class RbacWiring implements Authorizer, Disposable {
  readonly source = new AggregatingSource();
  readonly rbac: RbacAuthorizer;
  #subs: Disposable[] = [];

  constructor() {
    this.rbac = new RbacAuthorizer(this.source);
  }

  /** Feeds the source from the watch caches of the RBAC resources; resolves once all are filled. */
  async start(storeFor: (info: ResourceInfo) => GenericStore): Promise<void> {
    for (const [resource, kind] of KINDS) {
      const store = storeFor(resourceFor(RBAC_GROUP, 'v1', resource)!);
      await store.cache.start();
      this.#subs.push(store.cache.watch({}, {
        onEvent: (e) => {
          const obj = e.object.obj;
          const m = (obj['metadata'] ?? {}) as Record<string, string>;
          if (kind === 'ClusterRole') {
            this.source.setClusterRole(m['name'] ?? '', e.type === 'DELETED' ? undefined : obj);
            if (e.type === 'DELETED') this.source.remove(kind, '', m['name'] ?? '');
            return;
          }
          if (e.type === 'DELETED') this.source.remove(kind, m['namespace'] ?? '', m['name'] ?? '');
          else this.source.upsert(kind, obj as never);
        },
        onClose: () => undefined,
      }));
    }
  }

  authorize(attrs: Attributes): Decision | Promise<Decision> {
    if (attrs.user.groups.includes(SYSTEM_PRIVILEGED_GROUP)) return { decision: 'allow', reason: '' };
    this.source.refresh();
    return this.rbac.authorize(attrs);
  }

  rulesFor(user: UserInfo, namespace: string): ReturnType<Authorizer['rulesFor']> {
    this.source.refresh();
    if (user.groups.includes(SYSTEM_PRIVILEGED_GROUP)) {
      return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
    }
    return this.rbac.rulesFor(user, namespace);
  }

  /** Escalation checks of RBAC writes (upstream does them in the RBAC REST storage). */
  async checkWrite(a: AdmissionAttributes): Promise<void> {
    if (a.info.group !== RBAC_GROUP || a.user === undefined || a.object === undefined || a.subresource !== '') return;
    if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
    const obj = a.object;
    const onlyGC = a.operation === 'UPDATE' && isOnlyMutatingGCFields(obj, a.oldObject);
    let check: EscalationCheck;
    if (a.info.resource === 'rolebindings' || a.info.resource === 'clusterrolebindings') {
      check = await bindAllowed({
        user: a.user, resource: a.info.resource, name: a.name, roleRef: obj['roleRef'] as never, namespace: a.namespace,
        authorizer: this, resolver: this.rbac, onlyGCFieldsChanged: onlyGC,
      });
    } else if (a.info.resource === 'roles' || a.info.resource === 'clusterroles') {
      if (onlyGC) return;
      check = await roleWriteAllowed({
        user: a.user, resource: a.info.resource, name: a.name, namespace: a.namespace, rules: (obj['rules'] ?? []) as never,
        hasAggregationRule: hasAggregationRule(obj as never) || hasAggregationRule(a.oldObject as never),
        authorizer: this, resolver: this.rbac,
      });
    } else {
      return;
    }
    if (check.allowed) return;
    if (check.reason === 'NotFound') {
      throw new ApiError(404, 'NotFound', check.message, { name: check.name, group: check.group, kind: check.resource });
    }
    throw newForbidden({ group: check.group, resource: check.resource }, check.name, check.message);
  }

  dispose(): void {
    for (const s of this.#subs) s.dispose();
    this.#subs = [];
  }
}

/** Creates or updates the default roles and bindings (upstream's bootstrap-roles post-start hook). */
export async function reconcileBootstrapPolicy(storeFor: (info: ResourceInfo) => GenericStore): Promise<void> {
  const policy = bootstrapPolicy();
  const groups: Array<[string, KObject[], 'role' | 'binding']> = [
    ['clusterroles', policy.clusterRoles as never, 'role'],
    ['clusterrolebindings', policy.clusterRoleBindings as never, 'binding'],
    ['roles', policy.roles as never, 'role'],
    ['rolebindings', policy.roleBindings as never, 'binding'],
  ];
  let changed = 0;
  for (const [resource, objects, what] of groups) {
    const store = storeFor(resourceFor(RBAC_GROUP, 'v1', resource)!);
    // All objects of a kind at once: independent writes, which the store commits in groups.
    await Promise.all(objects.map(async (expected) => {
      const m = (expected['metadata'] ?? {}) as Record<string, string>;
      const ns = m['namespace'] ?? '';
      let existing: KObject | undefined;
      try {
        existing = await store.get(ns, m['name'] ?? '');
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
      const result = what === 'role' ? reconcileRole(existing as never, expected as never) : reconcileBinding(existing as never, expected as never);
      if (result.protected || result.operation === 'none') return;
      const obj = structuredClone(result.object) as unknown as KObject;
      obj['apiVersion'] = `${RBAC_GROUP}/v1`;
      obj['kind'] = resource === 'clusterroles' ? 'ClusterRole' : resource === 'clusterrolebindings' ? 'ClusterRoleBinding' : resource === 'roles' ? 'Role' : 'RoleBinding';
      if (result.operation === 'create') {
        await store.create(ns, obj);
      } else if (result.operation === 'recreate') {
        await store.delete(ns, m['name'] ?? '');
        await store.create(ns, obj);
      } else {
        await store.update(ns, m['name'] ?? '', () => obj);
      }
      changed++;
    }));
  }
  if (changed > 0) log.debug('bootstrap RBAC policy reconciled', { changed });
}
