// Defaulters of the networking.k8s.io/v1 kinds (upstream pkg/apis/networking/v1 defaults).

import { child, defaultNil, eachIn, ensure, isEmptyLen, type Defaulter, type JsonObject } from './json.ts';

function defaultNetworkPolicy(np: JsonObject): void {
  const spec = ensure(np, 'spec');
  if (spec === undefined) return;
  for (const direction of ['ingress', 'egress'] as const) {
    eachIn(spec, direction, (rule) => eachIn(rule, 'ports', (port) => defaultNil(port, 'protocol', 'TCP')));
  }
  // A policy naming no types covers ingress, and egress too when it has egress rules.
  if (isEmptyLen(spec['policyTypes'])) {
    spec['policyTypes'] = isEmptyLen(spec['egress']) ? ['Ingress'] : ['Ingress', 'Egress'];
  }
}

/** networking.k8s.io/v1 kinds with defaults. */
export const networkingV1Defaulters: Readonly<Record<string, Defaulter>> = {
  NetworkPolicy: defaultNetworkPolicy,
  IngressClass: (ic) => {
    const parameters = child(child(ic, 'spec'), 'parameters');
    if (parameters) defaultNil(parameters, 'scope', 'Cluster');
  },
};
