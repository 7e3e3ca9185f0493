// RuntimeClass admission: a pod naming a RuntimeClass gets the class's pod overhead and its
// scheduling constraints (nodeSelector merged, tolerations merged); unknown classes are refused,
// and an overhead the class does not define is refused at validation.
import { jsonEqual } from '../registry/object_meta.ts';
import type { KObject } from '../registry/strategy.ts';
import { forbidden, getFresh, getMap, getObj, getStr, objField } from './plugin_util.ts';
import { resourceListsEqual } from './resource_lists.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';

type Toleration = Record<string, unknown>;

/** Whether toleration `ss` tolerates everything `t` does (upstream's isSuperset). */
function isSuperset(ss: Toleration, t: Toleration): boolean {
  if (jsonEqual(ss, t)) return true;
  const ssKey = getStr(ss, 'key'), tKey = getStr(t, 'key');
  if (tKey !== ssKey && ssKey !== '') return false;
  const ssOp = getStr(ss, 'operator') || 'Equal', tOp = getStr(t, 'operator') || 'Equal';
  if (tOp !== ssOp && ssOp !== 'Exists') return false;
  if (ssOp !== 'Exists' && getStr(t, 'value') !== getStr(ss, 'value')) return false;
  const ssEffect = getStr(ss, 'effect');
  if (getStr(t, 'effect') !== ssEffect && ssEffect !== '') return false;
  if (ssEffect === 'NoExecute' && typeof ss['tolerationSeconds'] === 'number') {
    if (typeof t['tolerationSeconds'] !== 'number' || t['tolerationSeconds'] > ss['tolerationSeconds']) return false;
  }
  return true;
}

/** Merges two toleration lists, dropping any toleration another one already covers (MergeTolerations). */
export function mergeTolerations(first: readonly Toleration[], second: readonly Toleration[]): Toleration[] {
  const all = [...first, ...second];
  const merged: Toleration[] = [];
  outer: for (let i = 0; i < all.length; i++) {
    const t = all[i] as Toleration;
    for (const m of merged) if (isSuperset(m, t)) continue outer;
    for (const later of all.slice(i + 1)) if (!jsonEqual(t, later) && isSuperset(later, t)) continue outer;
    merged.push(t);
  }
  return merged;
}

async function runtimeClassOf(a: AdmissionAttributes, lister: AdmissionLister): Promise<KObject | undefined> {
  const name = getObj(a.object, 'spec')?.['runtimeClassName'];
  if (typeof name !== 'string' || name === '') return undefined;
  const rc = await getFresh(lister, 'node.k8s.io', 'runtimeclasses', '', name);
  if (!rc) throw forbidden(a, `pod rejected: RuntimeClass "${name}" not found`);
  return rc;
}

function setOverhead(a: AdmissionAttributes, spec: Record<string, unknown>, rc: KObject): void {
  const podFixed = getObj(getObj(rc, 'overhead'), 'podFixed');
  if (!podFixed) return;
  const current = getObj(spec, 'overhead');
  if (current && Object.keys(current).length > 0 && !resourceListsEqual(current, podFixed)) {
    throw forbidden(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
  }
  spec['overhead'] = structuredClone(podFixed);
}

function setScheduling(a: AdmissionAttributes, spec: Record<string, unknown>, rc: KObject): void {
  const scheduling = getObj(rc, 'scheduling');
  if (!scheduling) return;
  const rcSelector = getMap(scheduling, 'nodeSelector');
  const podSelector = getObj(spec, 'nodeSelector') as Record<string, string> | undefined;
  let selector: Record<string, string> | undefined = podSelector;
  if (!podSelector) {
    selector = Object.keys(rcSelector).length > 0 ? { ...rcSelector } : getObj(scheduling, 'nodeSelector') as Record<string, string> | undefined;
  } else {
    for (const [k, v] of Object.entries(rcSelector)) {
      const podValue = podSelector[k];
      if (podValue !== undefined && podValue !== v) {
        throw forbidden(a, `conflict: runtimeClass.scheduling.nodeSelector[${k}] = ${v}; pod.spec.nodeSelector[${k}] = ${podValue}`);
      }
      podSelector[k] = v;
    }
  }
  if (selector !== undefined) spec['nodeSelector'] = selector;
  const podTolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] as Toleration[] : [];
  const rcTolerations = Array.isArray(scheduling['tolerations']) ? scheduling['tolerations'] as Toleration[] : [];
  const merged = mergeTolerations(podTolerations, structuredClone(rcTolerations));
  if (merged.length > 0 || spec['tolerations'] !== undefined) spec['tolerations'] = merged;
}

function createRuntimeClass(): AdmissionPlugin {
  return {
    name: 'RuntimeClass',
    handles: (a) => a.info.group === '' && a.info.resource === 'pods' && a.subresource === '' && a.operation === 'CREATE',
    async admit(a, lister) {
      if (!a.object) return;
      const rc = await runtimeClassOf(a, lister);
      if (!rc) return;
      const spec = objField(a.object, 'spec');
      setOverhead(a, spec, rc);
      setScheduling(a, spec, rc);
    },
    async validate(a, lister) {
      if (!a.object) return;
      const rc = await runtimeClassOf(a, lister);
      const spec = getObj(a.object, 'spec') ?? {};
      const podFixed = getObj(getObj(rc, 'overhead'), 'podFixed');
      if (podFixed) {
        if (!resourceListsEqual(podFixed, spec['overhead'])) throw forbidden(a, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
      } else if (spec['overhead'] !== undefined && spec['overhead'] !== null) {
        throw forbidden(a, 'pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
      }
    },
  };
}

registerAdmissionPlugin('RuntimeClass', createRuntimeClass);
