// Priority admission: a pod's priorityClassName is resolved to spec.priority and preemptionPolicy
// (the global default class, or 0, when none is named); unknown classes and a conflicting explicit
// priority are refused, and only one PriorityClass may be the global default.
import type { KObject } from '../registry/strategy.ts';
import { forbidden, getFresh, getStr, metaOf, objField } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';

/** The classes every cluster has (the server also creates them as objects). */
export const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-cluster-critical': 2000000000,
  'system-node-critical': 2000001000,
};

/** Priority of pods when no class is named and none is the global default. */
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS = 0;

function defaultPriorityClass(lister: AdmissionLister): KObject | undefined {
  // Several defaults can exist after a race; upstream then picks the lowest value.
  let best: KObject | undefined;
  for (const pc of lister.list('scheduling.k8s.io', 'priorityclasses')) {
    if (pc['globalDefault'] !== true) continue;
    if (!best || Number(pc['value']) < Number(best['value'])) best = pc;
  }
  return best;
}

async function admitPod(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
  const pod = a.object;
  if (!pod) return;
  const spec = objField(pod, 'spec');
  if (a.operation === 'UPDATE') {
    // Set on create; an update keeps what was resolved then.
    const oldSpec = (a.oldObject?.['spec'] ?? {}) as Record<string, unknown>;
    if (oldSpec['priority'] !== undefined) spec['priority'] = oldSpec['priority'];
    if (oldSpec['preemptionPolicy'] !== undefined) spec['preemptionPolicy'] = oldSpec['preemptionPolicy'];
    return;
  }
  let priority: number;
  let policy: string | undefined;
  const className = getStr(spec, 'priorityClassName');
  if (className === '') {
    const def = defaultPriorityClass(lister);
    if (def) {
      spec['priorityClassName'] = getStr(metaOf(def), 'name');
      priority = Number(def['value']);
      policy = typeof def['preemptionPolicy'] === 'string' ? def['preemptionPolicy'] : undefined;
    } else {
      priority = DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS;
      policy = 'PreemptLowerPriority';
    }
  } else {
    const pc = await getFresh(lister, 'scheduling.k8s.io', 'priorityclasses', '', className);
    if (pc) {
      priority = Number(pc['value']);
      policy = typeof pc['preemptionPolicy'] === 'string' ? pc['preemptionPolicy'] : undefined;
    } else if (className in SYSTEM_PRIORITY_CLASSES) {
      priority = SYSTEM_PRIORITY_CLASSES[className] as number;
      policy = 'PreemptLowerPriority';
    } else {
      throw forbidden(a, `no PriorityClass with name ${className} was found`);
    }
  }
  if (typeof spec['priority'] === 'number' && spec['priority'] !== priority) {
    throw forbidden(a, `the integer value of priority (${spec['priority']}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  spec['priority'] = priority;
  if (policy !== undefined) {
    if (typeof spec['preemptionPolicy'] === 'string' && spec['preemptionPolicy'] !== policy) {
      throw forbidden(a, `the string value of PreemptionPolicy (${spec['preemptionPolicy']}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
    }
    spec['preemptionPolicy'] = policy;
  }
}

function validatePriorityClass(a: AdmissionAttributes, lister: AdmissionLister): void {
  const pc = a.object;
  if (!pc || pc['globalDefault'] !== true) return;
  const def = defaultPriorityClass(lister);
  if (!def) return;
  const defName = getStr(metaOf(def), 'name');
  if (a.operation === 'CREATE' || (a.operation === 'UPDATE' && defName !== a.name)) {
    throw forbidden(a, `PriorityClass ${defName} is already marked as default. Only one default can exist`);
  }
}

function createPriority(): AdmissionPlugin {
  return {
    name: 'Priority',
    handles: (a) => a.subresource === '' && (a.operation === 'CREATE' || a.operation === 'UPDATE')
      && ((a.info.group === '' && a.info.resource === 'pods') || (a.info.group === 'scheduling.k8s.io' && a.info.resource === 'priorityclasses')),
    async admit(a, lister) {
      if (a.info.resource === 'pods') await admitPod(a, lister);
    },
    validate(a, lister) {
      if (a.info.resource === 'priorityclasses') validatePriorityClass(a, lister);
    },
  };
}

registerAdmissionPlugin('Priority', createPriority);
