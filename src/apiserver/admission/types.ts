// The admission contract (upstream's admission.Interface): after defaulting, mutating plugins may
// change the object, then validating plugins may reject it, before anything is stored. Plugins
// register by name; the server runs the enabled ones in upstream's recommended order.
import type { ResourceInfo } from '../../api/resource_types.ts';
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
