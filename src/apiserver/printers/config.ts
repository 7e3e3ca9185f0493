// Printers for configuration and access objects: config maps, secrets, service accounts, resource
// quotas, pod disruption budgets, role bindings, admission webhook configurations and policies.
import { compareGoStrings } from '../../api/go_strings.ts';
import type { Printer } from './table.ts';
import {
  age, ageColumn, col, int, intOrString, labelSelectorGoString, list, mapSize, nameColumn, quantity,
  type KObject, type LabelSelector,
} from './format.ts';

interface ConfigMap extends KObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** configmaps: NAME DATA AGE; DATA counts data and binaryData keys. */
export const configMapPrinter: Printer = {
  columns: [nameColumn(), col('Data', 'string', 'Number of keys in the config map.'), ageColumn()],
  row: (obj, ctx) => {
    const cm = obj as ConfigMap;
    return { cells: [cm.metadata?.name ?? '', mapSize(cm.data) + mapSize(cm.binaryData), age(cm, ctx)] };
  },
};

interface Secret extends KObject {
  type?: string;
  data?: Record<string, string>;
}

/** secrets: NAME TYPE DATA AGE. */
export const secretPrinter: Printer = {
  columns: [nameColumn(), col('Type', 'string', 'The type of the secret.'), col('Data', 'string', 'Number of keys in the secret.'), ageColumn()],
  row: (obj, ctx) => {
    const s = obj as Secret;
    return { cells: [s.metadata?.name ?? '', s.type ?? '', mapSize(s.data), age(s, ctx)] };
  },
};

interface ServiceAccount extends KObject {
  secrets?: unknown[];
}

/** serviceaccounts: NAME SECRETS AGE. */
export const serviceAccountPrinter: Printer = {
  columns: [nameColumn(), col('Secrets', 'string', 'Number of secrets listed by the service account.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', list((obj as ServiceAccount).secrets).length, age(obj, ctx)] }),
};

interface ResourceQuota extends KObject {
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

/** resourcequotas: NAME REQUEST LIMIT AGE; "limits.*" resources go to LIMIT, the rest to REQUEST. */
export const resourceQuotaPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Request', 'string', 'Used out of hard limits, for everything but limits.*.'),
    col('Limit', 'string', 'Used out of hard limits, for limits.*.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const q = obj as ResourceQuota;
    const hard = q.status?.hard ?? {};
    const used = q.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const name of Object.keys(hard).sort(compareGoStrings)) {
      const pieces = name.split('.');
      const target = pieces.length > 1 && pieces[0] === 'limits' ? limits : requests;
      target.push(`${name}: ${quantity(used[name])}/${quantity(hard[name])}`);
    }
    return { cells: [q.metadata?.name ?? '', requests.join(', '), limits.join(', '), age(q, ctx)] };
  },
};

interface PodDisruptionBudget extends KObject {
  spec?: { minAvailable?: string | number | null; maxUnavailable?: string | number | null };
  status?: { disruptionsAllowed?: number };
}

/** poddisruptionbudgets: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE. */
export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Min Available', 'string', 'Pods that must stay available.'),
    col('Max Unavailable', 'string', 'Pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Pods that may be disrupted now.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const pdb = obj as PodDisruptionBudget;
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return {
      cells: [
        pdb.metadata?.name ?? '',
        min === undefined || min === null ? 'N/A' : intOrString(min),
        max === undefined || max === null ? 'N/A' : intOrString(max),
        int(pdb.status?.disruptionsAllowed),
        age(pdb, ctx),
      ],
    };
  },
};

interface RoleBinding extends KObject {
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
function subjectCells(rb: RoleBinding): string[] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of list(rb.subjects)) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name ?? ''}`);
    else if (s.kind === 'User') users.push(s.name ?? '');
    else if (s.kind === 'Group') groups.push(s.name ?? '');
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

function bindingPrinter(what: string): Printer {
  return {
    columns: [
      nameColumn(),
      col('Role', 'string', 'The role the binding grants, as Kind/name.'),
      ageColumn(),
      col('Users', 'string', `Users in the ${what}.`, 1),
      col('Groups', 'string', `Groups in the ${what}.`, 1),
      col('ServiceAccounts', 'string', `Service accounts in the ${what}.`, 1),
    ],
    row: (obj, ctx) => {
      const rb = obj as RoleBinding;
      return {
        cells: [rb.metadata?.name ?? '', `${rb.roleRef?.kind ?? ''}/${rb.roleRef?.name ?? ''}`, age(rb, ctx), ...subjectCells(rb)],
      };
    },
  };
}

/** rolebindings: NAME ROLE AGE (+ USERS GROUPS SERVICEACCOUNTS). */
export const roleBindingPrinter = bindingPrinter('role binding');

/** clusterrolebindings: as role bindings. */
export const clusterRoleBindingPrinter = bindingPrinter('cluster role binding');

interface WebhookConfiguration extends KObject {
  webhooks?: unknown[];
}

/** mutating/validatingwebhookconfigurations: NAME WEBHOOKS AGE. */
export const webhookConfigurationPrinter: Printer = {
  columns: [nameColumn(), col('Webhooks', 'integer', 'Number of webhooks in the configuration.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', list((obj as WebhookConfiguration).webhooks).length, age(obj, ctx)] }),
};

interface ValidatingAdmissionPolicy extends KObject {
  spec?: { paramKind?: { apiVersion?: string; kind?: string } | null; validations?: unknown[] };
}

/** validatingadmissionpolicies: NAME VALIDATIONS PARAMKIND AGE. */
export const validatingAdmissionPolicyPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Validations', 'integer', 'Number of validation rules in the policy.'),
    col('ParamKind', 'string', 'The kind of object that parameterizes the policy.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const p = obj as ValidatingAdmissionPolicy;
    const pk = p.spec?.paramKind;
    const paramKind = pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>';
    return { cells: [p.metadata?.name ?? '', list(p.spec?.validations).length, paramKind, age(p, ctx)] };
  },
};

interface ValidatingAdmissionPolicyBinding extends KObject {
  spec?: { policyName?: string; paramRef?: { name?: string; namespace?: string; selector?: LabelSelector | null } | null };
}

/** validatingadmissionpolicybindings: NAME POLICYNAME PARAMREF AGE. */
export const validatingAdmissionPolicyBindingPrinter: Printer = {
  columns: [
    nameColumn(),
    col('PolicyName', 'string', 'The policy the binding applies.'),
    col('ParamRef', 'string', 'The parameter object or selector of the binding.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const b = obj as ValidatingAdmissionPolicyBinding;
    const pr = b.spec?.paramRef;
    let param = '<unset>';
    if (pr) {
      // A name without a namespace may be cluster-scoped or in every namespace: upstream prints "*/".
      if (pr.name) param = pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
      else if (pr.selector) param = labelSelectorGoString(pr.selector);
    }
    return { cells: [b.metadata?.name ?? '', b.spec?.policyName ?? '', param, age(b, ctx)] };
  },
};
