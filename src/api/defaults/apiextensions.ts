// Defaulter of apiextensions.k8s.io/v1 CustomResourceDefinition (upstream apiextensions-apiserver
// pkg/apis/apiextensions/v1 defaults).

import { child, defaultNil, ensure, isEmptyLen, isZero, type Defaulter, type JsonObject } from './json.ts';

function defaultCRD(crd: JsonObject): void {
  const spec = ensure(crd, 'spec');
  if (spec === undefined) return;
  const names = ensure(spec, 'names');
  if (names) {
    const kind = typeof names['kind'] === 'string' ? names['kind'] : '';
    if (isZero(names['singular']) && kind !== '') names['singular'] = kind.toLowerCase();
    if (isZero(names['listKind']) && kind !== '') names['listKind'] = `${kind}List`;
  }
  defaultNil(spec, 'conversion', { strategy: 'None' });
  const service = child(child(child(child(spec, 'conversion'), 'webhook'), 'clientConfig'), 'service');
  if (service) defaultNil(service, 'port', 443);
  const status = ensure(crd, 'status');
  if (status && isEmptyLen(status['storedVersions']) && Array.isArray(spec['versions'])) {
    const storage = spec['versions'].find((v) => typeof v === 'object' && v !== null && (v as JsonObject)['storage'] === true);
    if (storage !== undefined) status['storedVersions'] = [(storage as JsonObject)['name']];
  }
}

/** apiextensions.k8s.io/v1 kinds with defaults. */
export const apiextensionsV1Defaulters: Readonly<Record<string, Defaulter>> = {
  CustomResourceDefinition: defaultCRD,
};
