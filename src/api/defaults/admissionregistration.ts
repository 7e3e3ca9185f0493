// Defaulters of the admissionregistration.k8s.io/v1 kinds: webhook configurations and validating
// admission policies (upstream pkg/apis/admissionregistration/v1 defaults).

import { child, defaultNil, eachIn, fieldDefaults, type Defaulter, type JsonObject } from './json.ts';

/** Seconds a webhook call may take when the configuration does not say. */
export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;

const defaultRule = fieldDefaults([{ path: 'scope', value: '*' }]);

function defaultWebhook(webhook: JsonObject, mutating: boolean): void {
  fieldDefaults([
    { path: 'failurePolicy', value: 'Fail' },
    { path: 'matchPolicy', value: 'Equivalent' },
    { path: 'namespaceSelector', value: {} },
    { path: 'objectSelector', value: {} },
    { path: 'timeoutSeconds', value: DEFAULT_WEBHOOK_TIMEOUT_SECONDS },
  ])(webhook);
  if (mutating) defaultNil(webhook, 'reinvocationPolicy', 'Never');
  eachIn(webhook, 'rules', defaultRule);
  const service = child(child(webhook, 'clientConfig'), 'service');
  if (service) defaultNil(service, 'port', 443);
}

function defaultMatchResources(match: JsonObject | undefined): void {
  if (match === undefined) return;
  fieldDefaults([
    { path: 'matchPolicy', value: 'Equivalent' },
    { path: 'namespaceSelector', value: {} },
    { path: 'objectSelector', value: {} },
  ])(match);
  eachIn(match, 'resourceRules', defaultRule);
  eachIn(match, 'excludeResourceRules', defaultRule);
}

/** admissionregistration.k8s.io/v1 kinds with defaults. */
export const admissionregistrationV1Defaulters: Readonly<Record<string, Defaulter>> = {
  ValidatingWebhookConfiguration: (obj) => eachIn(obj, 'webhooks', (w) => defaultWebhook(w, false)),
  MutatingWebhookConfiguration: (obj) => eachIn(obj, 'webhooks', (w) => defaultWebhook(w, true)),
  ValidatingAdmissionPolicy: (obj) => {
    const spec = child(obj, 'spec');
    if (spec === undefined) return;
    defaultNil(spec, 'failurePolicy', 'Fail');
    defaultMatchResources(child(spec, 'matchConstraints'));
  },
  ValidatingAdmissionPolicyBinding: (obj) => defaultMatchResources(child(child(obj, 'spec'), 'matchResources')),
};
