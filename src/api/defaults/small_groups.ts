// Defaulters of the groups with a single defaulted kind: scheduling.k8s.io/v1 PriorityClass and
// discovery.k8s.io/v1 EndpointSlice (upstream pkg/apis/{scheduling,discovery}/v1 defaults).

import { defaultNil, eachIn, fieldDefaults, type Defaulter } from './json.ts';

/** scheduling.k8s.io/v1 kinds with defaults. */
export const schedulingV1Defaulters: Readonly<Record<string, Defaulter>> = {
  PriorityClass: fieldDefaults([{ path: 'preemptionPolicy', value: 'PreemptLowerPriority' }]),
};

/** discovery.k8s.io/v1 kinds with defaults. */
export const discoveryV1Defaulters: Readonly<Record<string, Defaulter>> = {
  EndpointSlice: (slice) => eachIn(slice, 'ports', (port) => {
    defaultNil(port, 'name', '');
    defaultNil(port, 'protocol', 'TCP');
  }),
};
