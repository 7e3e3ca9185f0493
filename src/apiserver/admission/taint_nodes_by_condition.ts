// TaintNodesByCondition admission: a new Node starts with the not-ready NoSchedule taint, so nothing
// is scheduled onto it before the node lifecycle controller has seen it become Ready.
import { getStr, objField } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionPlugin } from './types.ts';

const NOT_READY_TAINT = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' } as const;

function createTaintNodesByCondition(): AdmissionPlugin {
  return {
    name: 'TaintNodesByCondition',
    handles: (a) => a.info.group === '' && a.info.resource === 'nodes' && a.subresource === '' && a.operation === 'CREATE',
    admit(a) {
      if (!a.object) return;
      const spec = objField(a.object, 'spec');
      const taints = Array.isArray(spec['taints']) ? spec['taints'] as Record<string, unknown>[] : [];
      if (taints.some((t) => getStr(t, 'key') === NOT_READY_TAINT.key && getStr(t, 'effect') === NOT_READY_TAINT.effect)) return;
      spec['taints'] = [...taints, { ...NOT_READY_TAINT }];
    },
  };
}

registerAdmissionPlugin('TaintNodesByCondition', createTaintNodesByCondition);
