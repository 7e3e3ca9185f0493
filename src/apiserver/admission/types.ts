// The admission contract (upstream's admission.Interface): after defaulting, mutating plugins may
// change the object, then validating plugins may reject it, before anything is stored. Plugins
// register by name; the server runs the enabled ones in upstream's recommended order.
import type { ResourceInfo } from '../../api/resource_types.ts';
import { isQualifiedName } from '../../api/validation/names.ts';
import { logger } from '../../base/log.ts';
import { levelLess, type AuditLevel } from '../audit/policy.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { KObject } from '../registry/strategy.ts';

/** The operation being admitted. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What is being admitted (admission.Attributes), in the stored version of the resource. */
export interface AdmissionAttributes {
  readonly operation: Operation;
  /** The resource (stored version). */
  readonly info: ResourceInfo;
  /** The resource in the version the client used (webhooks' requestKind); `info` when absent. */
  readonly requestInfo?: ResourceInfo;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** The new object (mutable for mutating plugins); undefined for DELETE. */
  readonly object: KObject | undefined;
  /** The current object for UPDATE and DELETE. */
  readonly oldObject: KObject | undefined;
  readonly user: UserInfo | undefined;
  readonly dryRun: boolean;
  /** Warnings to return to the client (`Warning:` headers). */
  readonly warnings: string[];
}

/**
 * Where admission annotations of one request go: its audit event (the request's AuditContext).
 * Only requests audited at Metadata or above have one.
 */
export interface AuditAnnotationSink {
  /** The request's audit level; annotations above it are not recorded. */
  readonly level: AuditLevel;
  /** Records an annotation; a key keeps its first value. */
  addAnnotation(key: string, value: string): void;
}

// The sink is found through the request's warnings list: it is the one per-request object every
// admission path already carries, so the write path needs no extra field and no allocation when
// auditing is off.
const sinks = new WeakMap<readonly string[], AuditAnnotationSink>();

/** Makes `sink` the audit annotation sink of the request whose admission warnings go to `warnings`. */
export function bindAuditAnnotationSink(warnings: readonly string[], sink: AuditAnnotationSink): void {
  sinks.set(warnings, sink);
}

/** The request's audit annotation sink; undefined when the request is not audited. */
export function auditAnnotationSink(a: AdmissionAttributes): AuditAnnotationSink | undefined {
  return sinks.get(a.warnings);
}

const log = logger('admission');

/** checkKeyFormat: a key is `<DNS subdomain>/<name>`; undefined when it is fine. */
export function annotationKeyError(key: string): string | undefined {
  if (key.split('/').length !== 2) {
    return "annotation key has invalid format, the right format is a DNS subdomain prefix and '/' and key name. (e.g. 'podsecuritypolicy.admission.k8s.io/admit-policy')";
  }
  const msgs = isQualifiedName(key);
  if (msgs.length > 0) return `annotation key has invalid format ${msgs.join(',')}. A qualified name like 'podsecuritypolicy.admission.k8s.io/admit-policy' is required.`;
  return undefined;
}

/**
 * Attributes.AddAnnotationWithLevel: records an audit annotation for the request, kept only when
 * the request is audited at `level` or above (Metadata by default, as AddAnnotation).
 */
export function addAuditAnnotation(a: AdmissionAttributes, key: string, value: string, level: AuditLevel = 'Metadata'): void {
  const sink = sinks.get(a.warnings);
  if (!sink) return;
  const err = annotationKeyError(key);
  if (err !== undefined) {
    log.warn('failed to set admission audit annotation', { key, err });
    return;
  }
  if (levelLess(level, 'Metadata') || levelLess(sink.level, level)) return;
  sink.addAnnotation(key, value);
}

/** Read access to the cluster's current objects (from the API server's watch caches). */
export interface AdmissionLister {
  list(group: string, resource: string, namespace?: string): KObject[];
  get(group: string, resource: string, namespace: string, name: string): KObject | undefined;
}

/** A plugin; it implements admit (mutating), validate, or both. Rejections throw an ApiError. */
export interface AdmissionPlugin {
  readonly name: string;
  /** Quick filter: whether the plugin cares about this request at all. */
  handles(a: AdmissionAttributes): boolean;
  admit?(a: AdmissionAttributes, lister: AdmissionLister): void | Promise<void>;
  validate?(a: AdmissionAttributes, lister: AdmissionLister): void | Promise<void>;
}

/** Builds a plugin from the server's options. */
export type AdmissionPluginFactory = (opts: Readonly<Record<string, unknown>>) => AdmissionPlugin;

const factories = new Map<string, AdmissionPluginFactory>();

/** Registers a plugin factory by its upstream name ("LimitRanger", "ServiceAccount" …). */
export function registerAdmissionPlugin(name: string, factory: AdmissionPluginFactory): void {
  if (factories.has(name)) throw new Error(`admission plugin ${name} registered twice`);
  factories.set(name, factory);
}

/** The registered factory of a plugin. */
export function admissionPluginFactory(name: string): AdmissionPluginFactory | undefined {
  return factories.get(name);
}

/** Names of the registered plugins. */
export function registeredAdmissionPlugins(): string[] {
  return [...factories.keys()];
}
