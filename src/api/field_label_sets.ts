// Which field selectors each resource supports (upstream's field-label conversion functions) and
// how each field's value is read from an object (upstream's registry GetAttrs / ToSelectableFields),
// kept as data. Resources not listed accept only metadata.name and metadata.namespace.

import { FieldSelectorError, transformFieldSelector, type FieldSelector } from './fields.ts';
import { goQuote } from './go_strings.ts';

/** How a field's string value is derived from the JSON found at `from`. */
export type FieldValueKind =
  /** The string, "" when absent. */
  | 'string'
  /** "true"/"false", "false" when absent. */
  | 'bool'
  /** Decimal integer, "0" when absent. */
  | 'int';

/** One selectable field: the object path it is read from and how it is rendered. */
export interface FieldSource {
  /** Dotted JSON path in the served version of the object; alternatives separated by `|` (first non-empty wins). */
  readonly from: string;
  readonly kind: FieldValueKind;
}

/** The error text styles upstream's conversion functions use for an unsupported label. */
export type UnsupportedStyle =
  /** `field label not supported: <label>` (core/v1, events.k8s.io, certificates.k8s.io). */
  | 'core'
  /** `field label "<label>" not supported for "<Kind>"` (batch/v1). */
  | 'batch'
  /** `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"`. */
  | 'default';

/** The field selector support of one resource. */
export interface FieldLabelSet {
  readonly group: string;
  readonly resource: string;
  readonly kind: string;
  /** Labels the API accepts, each mapped to the field it selects on (usually itself). */
  readonly accepted: Readonly<Record<string, string>>;
  readonly unsupported: UnsupportedStyle;
  /** Selectable fields beyond metadata.name and metadata.namespace, and where they come from. */
  readonly fields: Readonly<Record<string, FieldSource>>;
}

function same(...labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l, l]));
}

const str = (from: string): FieldSource => ({ from, kind: 'string' });
const bool = (from: string): FieldSource => ({ from, kind: 'bool' });
const int = (from: string): FieldSource => ({ from, kind: 'int' });

const defaultAccepted = same('metadata.name', 'metadata.namespace');

/** The resources whose field selectors go beyond metadata.name / metadata.namespace. */
export const fieldLabelSets: readonly FieldLabelSet[] = [
  {
    group: '',
    resource: 'pods',
    kind: 'Pod',
    accepted: {
      ...same(
        'metadata.name',
        'metadata.namespace',
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'spec.hostNetwork',
        'status.phase',
        'status.podIP',
        'status.podIPs',
        'status.nominatedNodeName',
      ),
      // Old v1 clients send spec.host.
      'spec.host': 'spec.nodeName',
    },
    unsupported: 'core',
    // status.podIPs is accepted but, as upstream, not part of the field set: it never equals a value.
    fields: {
      'spec.nodeName': str('spec.nodeName'),
      'spec.restartPolicy': str('spec.restartPolicy'),
      'spec.schedulerName': str('spec.schedulerName'),
      'spec.serviceAccountName': str('spec.serviceAccountName'),
      'spec.hostNetwork': bool('spec.hostNetwork'),
      'status.phase': str('status.phase'),
      // The internal pod keeps podIPs[0], which v1 conversion takes from podIP when that is set.
      'status.podIP': str('status.podIP|status.podIPs.0.ip'),
      'status.nominatedNodeName': str('status.nominatedNodeName'),
    },
  },
  {
    group: '',
    resource: 'nodes',
    kind: 'Node',
    accepted: same('metadata.name', 'spec.unschedulable'),
    unsupported: 'core',
    fields: { 'spec.unschedulable': bool('spec.unschedulable') },
  },
  {
    group: '',
    resource: 'replicationcontrollers',
    kind: 'ReplicationController',
    accepted: same('metadata.name', 'metadata.namespace', 'status.replicas'),
    unsupported: 'core',
    fields: { 'status.replicas': int('status.replicas') },
  },
  {
    group: '',
    resource: 'events',
    kind: 'Event',
    accepted: same(
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
      'metadata.namespace',
      'metadata.name',
    ),
    unsupported: 'core',
    fields: {
      'involvedObject.kind': str('involvedObject.kind'),
      'involvedObject.namespace': str('involvedObject.namespace'),
      'involvedObject.name': str('involvedObject.name'),
      'involvedObject.uid': str('involvedObject.uid'),
      'involvedObject.apiVersion': str('involvedObject.apiVersion'),
      'involvedObject.resourceVersion': str('involvedObject.resourceVersion'),
      'involvedObject.fieldPath': str('involvedObject.fieldPath'),
      reason: str('reason'),
      reportingComponent: str('reportingComponent'),
      source: str('source.component|reportingComponent'),
      type: str('type'),
    },
  },
  {
    group: 'events.k8s.io',
    resource: 'events',
    kind: 'Event',
    accepted: {
      reason: 'reason',
      'regarding.kind': 'involvedObject.kind',
      'regarding.namespace': 'involvedObject.namespace',
      'regarding.name': 'involvedObject.name',
      'regarding.uid': 'involvedObject.uid',
      'regarding.apiVersion': 'involvedObject.apiVersion',
      'regarding.resourceVersion': 'involvedObject.resourceVersion',
      'regarding.fieldPath': 'involvedObject.fieldPath',
      reportingController: 'reportingComponent',
      source: 'source',
      type: 'type',
      'metadata.namespace': 'metadata.namespace',
      'metadata.name': 'metadata.name',
    },
    unsupported: 'core',
    // Same field set as core events (one stored object), read from the events.k8s.io/v1 shape.
    fields: {
      'involvedObject.kind': str('regarding.kind'),
      'involvedObject.namespace': str('regarding.namespace'),
      'involvedObject.name': str('regarding.name'),
      'involvedObject.uid': str('regarding.uid'),
      'involvedObject.apiVersion': str('regarding.apiVersion'),
      'involvedObject.resourceVersion': str('regarding.resourceVersion'),
      'involvedObject.fieldPath': str('regarding.fieldPath'),
      reason: str('reason'),
      reportingComponent: str('reportingController'),
      source: str('deprecatedSource.component|reportingController'),
      type: str('type'),
    },
  },
  {
    group: '',
    resource: 'namespaces',
    kind: 'Namespace',
    accepted: same('status.phase', 'metadata.name'),
    unsupported: 'core',
    // "name" is a legacy entry upstream keeps in the field set (not selectable through the API).
    fields: { 'status.phase': str('status.phase'), name: str('metadata.name') },
  },
  {
    group: '',
    resource: 'secrets',
    kind: 'Secret',
    accepted: same('type', 'metadata.namespace', 'metadata.name'),
    unsupported: 'core',
    fields: { type: str('type') },
  },
  {
    group: '',
    resource: 'services',
    kind: 'Service',
    accepted: same('metadata.namespace', 'metadata.name', 'spec.clusterIP', 'spec.type'),
    unsupported: 'core',
    fields: { 'spec.clusterIP': str('spec.clusterIP'), 'spec.type': str('spec.type') },
  },
  {
    group: 'batch',
    resource: 'jobs',
    kind: 'Job',
    accepted: same('metadata.name', 'metadata.namespace', 'status.successful'),
    unsupported: 'batch',
    fields: { 'status.successful': int('status.succeeded') },
  },
  {
    group: 'batch',
    resource: 'cronjobs',
    kind: 'CronJob',
    // status.successful is accepted (one conversion function serves Job and CronJob) but never set.
    accepted: same('metadata.name', 'metadata.namespace', 'status.successful'),
    unsupported: 'batch',
    fields: {},
  },
  {
    group: 'apps',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    // apps/v1 registers no conversion, so only metadata.* pass the API even though the set has more.
    accepted: defaultAccepted,
    unsupported: 'default',
    fields: { 'status.replicas': int('status.replicas') },
  },
  {
    group: 'certificates.k8s.io',
    resource: 'certificatesigningrequests',
    kind: 'CertificateSigningRequest',
    accepted: same('metadata.name', 'spec.signerName'),
    unsupported: 'core',
    fields: { 'spec.signerName': str('spec.signerName') },
  },
];

const byResource = new Map<string, FieldLabelSet>(fieldLabelSets.map((s) => [`${s.group}/${s.resource}`, s]));

/** The entry for a resource, if it has more than the default labels. */
export function fieldLabelSetFor(group: string, resource: string): FieldLabelSet | undefined {
  return byResource.get(`${group}/${resource}`);
}

/** The labels a resource's field selectors accept. */
export function supportedFieldLabels(group: string, resource: string): string[] {
  return Object.keys(fieldLabelSetFor(group, resource)?.accepted ?? defaultAccepted);
}

/** The exact upstream error text for an unsupported label on this resource. */
export function unsupportedFieldLabelMessage(group: string, resource: string, label: string): string {
  const set = fieldLabelSetFor(group, resource);
  switch (set?.unsupported ?? 'default') {
    case 'core':
      return `field label not supported: ${label}`;
    case 'batch':
      return `field label ${goQuote(label)} not supported for ${goQuote(set?.kind ?? '')}`;
    default:
      return `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
  }
}

/**
 * Scheme.ConvertFieldLabel: maps a label to the field it selects on, or throws FieldSelectorError
 * with upstream's message when the resource does not support it.
 */
export function convertFieldLabel(group: string, resource: string, label: string, value: string): [string, string] {
  const accepted = fieldLabelSetFor(group, resource)?.accepted ?? defaultAccepted;
  if (!Object.prototype.hasOwnProperty.call(accepted, label)) {
    throw new FieldSelectorError(unsupportedFieldLabelMessage(group, resource, label));
  }
  return [accepted[label] as string, value];
}

/** Checks and maps every term of a parsed selector for the resource (the first bad term throws). */
export function convertFieldSelector(group: string, resource: string, sel: FieldSelector): FieldSelector {
  return transformFieldSelector(sel, (label, value) => convertFieldLabel(group, resource, label, value));
}

function lookup(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

function render(src: FieldSource, obj: unknown): string {
  let v: unknown;
  for (const alt of src.from.split('|')) {
    v = lookup(obj, alt);
    if (v !== undefined && v !== null && v !== '') break;
  }
  switch (src.kind) {
    case 'bool':
      return v === true ? 'true' : 'false';
    case 'int':
      return typeof v === 'number' ? String(Math.trunc(v)) : '0';
    default:
      return typeof v === 'string' ? v : '';
  }
}

/** Options of fieldsOf. */
export interface FieldsOfOptions {
  /** False for cluster-scoped kinds, whose field set has no metadata.namespace (a missing field matches as ""). */
  readonly namespaced?: boolean;
}

/**
 * The field values a field selector is matched against for one object in its served JSON form:
 * metadata.name, metadata.namespace (namespaced kinds), and the resource's own fields.
 */
export function fieldsOf(group: string, resource: string, obj: unknown, opts: FieldsOfOptions = {}): Record<string, string> {
  const meta = (lookup(obj, 'metadata') ?? {}) as { name?: unknown; namespace?: unknown };
  const out: Record<string, string> = {
    'metadata.name': typeof meta.name === 'string' ? meta.name : '',
  };
  if (opts.namespaced !== false) out['metadata.namespace'] = typeof meta.namespace === 'string' ? meta.namespace : '';
  const set = fieldLabelSetFor(group, resource);
  for (const [field, src] of Object.entries(set?.fields ?? {})) out[field] = render(src, obj);
  return out;
}
