// ResourceQuota admission: a write is refused when it would take a namespace past any matching
// quota's hard limits. Usage is the sum over the current objects (from the watch caches) plus writes
// admitted moments ago that have not reached the caches yet, so concurrent creates cannot overshoot.
import { cmpQuantity, subQuantity, isZero, sign, type Quantity } from '../../api/quantity.ts';
import type { KObject } from '../registry/strategy.ts';
import { forbidden, getObj, getStr, metaOf } from './plugin_util.ts';
import { evaluatorFor, quotaScopes, type QuotaEvaluator } from './quota_evaluators.ts';
import { addLists, count, mask, parseResourceList, prettyPrint, type ResourceList } from './resource_lists.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';

/** How long an admitted write counts as pending before we assume it never happened. */
const PENDING_TTL_MS = 10_000;

/** A write that passed quota and may not be visible in the caches yet. */
interface Pending {
  readonly group: string;
  readonly resource: string;
  readonly name: string;
  /** The resourceVersion it replaces (UPDATE), '' for a create. */
  readonly oldResourceVersion: string;
  readonly object: KObject;
  readonly oldObject: KObject | undefined;
  readonly expires: number;
}

function hardOf(quota: KObject): ResourceList {
  // status.hard is spec.hard as the quota controller last saw it; spec is the truth before that.
  const status = parseResourceList(getObj(getObj(quota, 'status'), 'hard'));
  return status.size > 0 ? status : parseResourceList(getObj(getObj(quota, 'spec'), 'hard'));
}

function matches(ev: QuotaEvaluator, quota: KObject, hard: ResourceList, obj: KObject): boolean {
  if (ev.matchingResources([...hard.keys()]).length === 0) return false;
  return quotaScopes(quota).every((s) => ev.matchesScope(s, obj));
}

/** a - b per name in a, floored at zero (SubtractWithNonNegativeResult). */
function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of a) {
    const old = b.get(k);
    const d = old ? subQuantity(v, old) : v;
    out.set(k, sign(d) < 0 ? count(0) : d);
  }
  return out;
}

function removeZeros(a: ResourceList): ResourceList {
  return new Map([...a].filter(([, v]) => !isZero(v)));
}

/** The usage change a request causes. */
function delta(ev: QuotaEvaluator, object: KObject, oldObject: KObject | undefined, now: Date): ResourceList {
  const usage = ev.usage(object, now);
  if (!oldObject || getStr(metaOf(oldObject), 'resourceVersion') === '') return usage;
  return subtractNonNegative(usage, ev.usage(oldObject, now));
}

/** The ResourceQuota plugin with its ledger of pending writes. */
export class ResourceQuotaAdmission implements AdmissionPlugin {
  readonly name = 'ResourceQuota';
  readonly #pending = new Map<string, Pending[]>();
  readonly #now: () => Date;

  constructor(opts: { now?: () => Date } = {}) {
    this.#now = opts.now ?? (() => new Date());
  }

  handles(a: AdmissionAttributes): boolean {
    if (a.namespace === '' || a.subresource !== '' || !a.object) return false;
    if (a.info.group === '' && a.info.resource === 'namespaces') return false;
    return a.operation === 'CREATE' || a.operation === 'UPDATE';
  }

  /** Drops pending writes the caches now show, or that are too old to still be in flight. */
  #livePending(namespace: string, lister: AdmissionLister): Pending[] {
    const now = Date.now();
    // Other namespaces' entries only expire; that keeps the ledger small without a timer.
    for (const [ns, list] of this.#pending) {
      if (ns !== namespace && list.every((p) => p.expires < now)) this.#pending.delete(ns);
    }
    const kept = (this.#pending.get(namespace) ?? []).filter((p) => {
      if (p.expires < now) return false;
      const current = lister.get(p.group, p.resource, namespace, p.name);
      if (!current) return true;
      // A create is done once its name is in the cache: it is ours, or ours failed as AlreadyExists.
      if (p.oldResourceVersion === '') return false;
      return getStr(metaOf(current), 'resourceVersion') === p.oldResourceVersion;
    });
    if (kept.length > 0) this.#pending.set(namespace, kept);
    else this.#pending.delete(namespace);
    return kept;
  }

  /** The current usage of a quota over `group/resource` objects. */
  #used(ev: QuotaEvaluator, quota: KObject, hard: ResourceList, a: AdmissionAttributes, lister: AdmissionLister, pending: readonly Pending[]): ResourceList {
    const names = ev.matchingResources([...hard.keys()]);
    const now = this.#now();
    let used: ResourceList = new Map(names.map((n) => [n, count(0)]));
    for (const o of lister.list(a.info.group, a.info.resource, a.namespace)) {
      if (matches(ev, quota, hard, o)) used = addLists(used, mask(ev.usage(o, now), names));
    }
    for (const p of pending) {
      if (p.group !== a.info.group || p.resource !== a.info.resource) continue;
      if (!matches(ev, quota, hard, p.object)) continue;
      used = addLists(used, mask(delta(ev, p.object, p.oldObject, now), names));
    }
    return used;
  }

  validate(a: AdmissionAttributes, lister: AdmissionLister): void {
    const obj = a.object as KObject;
    const ev = evaluatorFor(a.info.group, a.info.resource);
    if (!ev.handles(a.operation)) return;
    const quotas = lister.list('', 'resourcequotas', a.namespace)
      .sort((x, y) => (getStr(metaOf(x), 'name') < getStr(metaOf(y), 'name') ? -1 : 1));
    const interesting: Array<{ quota: KObject; hard: ResourceList }> = [];
    for (const quota of quotas) {
      const hard = hardOf(quota);
      if (!matches(ev, quota, hard, obj)) continue;
      const why = ev.constraints?.(ev.matchingResources([...hard.keys()]), obj);
      if (why) throw forbidden(a, `failed quota: ${getStr(metaOf(quota), 'name')}: ${why}`);
      interesting.push({ quota, hard });
    }
    // No pertinent quota: nothing to check, and no usage to compute (upstream's CheckRequest).
    if (interesting.length === 0) return;
    const now = this.#now();
    const requested = removeZeros(delta(ev, obj, a.oldObject, now));
    const negative = [...requested].filter(([, v]) => sign(v) < 0).map(([k]) => k).sort();
    if (negative.length > 0) throw forbidden(a, `quota usage is negative for resource(s): ${negative.join(',')}`);
    if (requested.size === 0 || interesting.length === 0) return;
    // Everything from here to recording the write is synchronous: no other request of this
    // namespace can interleave, which is what upstream's per-namespace serialization guarantees.
    const pending = this.#livePending(a.namespace, lister);
    for (const { quota, hard } of interesting) {
      const req = mask(requested, hard.keys());
      const used = this.#used(ev, quota, hard, a, lister, pending);
      const newUsage = addLists(used, req);
      const exceeded = [...req.keys()].filter((k) => cmpQuantity(newUsage.get(k) as Quantity, hard.get(k) as Quantity) > 0);
      if (exceeded.length > 0) {
        throw forbidden(a, `exceeded quota: ${getStr(metaOf(quota), 'name')}, requested: ${prettyPrint(mask(req, exceeded))}, `
          + `used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`);
      }
    }
    // A dry run writes nothing, and a create over an existing name will fail with AlreadyExists.
    if (a.dryRun || (a.operation === 'CREATE' && lister.get(a.info.group, a.info.resource, a.namespace, a.name))) return;
    const list = this.#pending.get(a.namespace) ?? [];
    list.push({
      group: a.info.group, resource: a.info.resource, name: a.name,
      oldResourceVersion: a.operation === 'UPDATE' ? getStr(metaOf(a.oldObject), 'resourceVersion') : '',
      object: structuredClone(obj), oldObject: a.oldObject ? structuredClone(a.oldObject) : undefined,
      expires: Date.now() + PENDING_TTL_MS,
    });
    this.#pending.set(a.namespace, list);
  }
}

registerAdmissionPlugin('ResourceQuota', () => new ResourceQuotaAdmission());
