// Defaulters of HorizontalPodAutoscaler in autoscaling/v1 and autoscaling/v2 (upstream
// pkg/apis/autoscaling/{v1,v2} defaults).

import { child, clone, ensure, fieldDefaults, isEmptyLen, isNil, isObject, type Defaulter, type JsonObject } from './json.ts';

/** Target CPU utilization (percent) of an HPA that names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;

const defaultScaleUpRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
} as const;

// Scale-down has no stabilization default here: the controller's command-line flag decides it.
const defaultScaleDownRules = {
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
} as const;

// The given rules over the defaults, field by field (a nil field takes the default).
function scalingRules(given: unknown, defaults: Readonly<Record<string, unknown>>): JsonObject {
  const rules = clone(defaults) as JsonObject;
  if (isObject(given)) {
    for (const key of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) {
      if (!isNil(given[key])) rules[key] = given[key];
    }
  }
  return rules;
}

function defaultHPAv2(hpa: JsonObject): void {
  const spec = ensure(hpa, 'spec');
  if (spec === undefined) return;
  fieldDefaults([{ path: 'minReplicas', value: 1 }])(spec);
  if (isEmptyLen(spec['metrics'])) {
    spec['metrics'] = [{
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } },
    }];
  }
  const behavior = child(spec, 'behavior');
  if (behavior) {
    behavior['scaleUp'] = scalingRules(behavior['scaleUp'], defaultScaleUpRules);
    behavior['scaleDown'] = scalingRules(behavior['scaleDown'], defaultScaleDownRules);
  }
}

/** autoscaling/v1 kinds with defaults. */
export const autoscalingV1Defaulters: Readonly<Record<string, Defaulter>> = {
  HorizontalPodAutoscaler: fieldDefaults([{ path: 'spec.minReplicas', value: 1 }]),
};

/** autoscaling/v2 kinds with defaults. */
export const autoscalingV2Defaulters: Readonly<Record<string, Defaulter>> = {
  HorizontalPodAutoscaler: defaultHPAv2,
};
