// Defaulters of the rbac.authorization.k8s.io/v1 bindings (upstream pkg/apis/rbac/v1 defaults).

import { defaultZero, eachIn, ensure, isZero, type Defaulter, type JsonObject } from './json.ts';

/** The RBAC API group: the default group of roleRef and of User and Group subjects. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

// ServiceAccount subjects belong to the core group (""), users and groups to RBAC's.
function defaultSubject(subject: JsonObject): void {
  if (!isZero(subject['apiGroup'])) return;
  if (subject['kind'] === 'User' || subject['kind'] === 'Group') subject['apiGroup'] = RBAC_GROUP;
}

function defaultBinding(binding: JsonObject): void {
  const roleRef = ensure(binding, 'roleRef');
  if (roleRef) defaultZero(roleRef, 'apiGroup', RBAC_GROUP);
  eachIn(binding, 'subjects', defaultSubject);
}

/** rbac.authorization.k8s.io/v1 kinds with defaults. */
export const rbacV1Defaulters: Readonly<Record<string, Defaulter>> = {
  RoleBinding: defaultBinding,
  ClusterRoleBinding: defaultBinding,
};
