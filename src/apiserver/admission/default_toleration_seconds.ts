// DefaultTolerationSeconds admission: pods tolerate the not-ready and unreachable NoExecute taints
// for 300 seconds unless they already say how long, so a brief node outage does not evict them.
import { getStr, objField } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionPlugin } from './types.ts';

/** Upstream's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;

const TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'] as const;

function tolerates(tolerations: readonly Record<string, unknown>[], key: string): boolean {
  return tolerations.some((t) => {
    const k = getStr(t, 'key'), effect = getStr(t, 'effect');
    return (k === key || k === '') && (effect === 'NoExecute' || effect === '');
  });
}

function createDefaultTolerationSeconds(opts: Readonly<Record<string, unknown>>): AdmissionPlugin {
  const seconds = typeof opts['defaultTolerationSeconds'] === 'number' ? opts['defaultTolerationSeconds'] : DEFAULT_TOLERATION_SECONDS;
  return {
    name: 'DefaultTolerationSeconds',
    handles: (a) => a.info.group === '' && a.info.resource === 'pods' && a.subresource === ''
      && (a.operation === 'CREATE' || a.operation === 'UPDATE'),
    admit(a) {
      if (!a.object) return;
      const spec = objField(a.object, 'spec');
      const tolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] as Record<string, unknown>[] : [];
      const missing = TAINTS.filter((key) => !tolerates(tolerations, key));
      if (missing.length === 0) return;
      spec['tolerations'] = [...tolerations,
        ...missing.map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }))];
    },
  };
}

registerAdmissionPlugin('DefaultTolerationSeconds', createDefaultTolerationSeconds);
