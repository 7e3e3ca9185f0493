// Per-resource behaviour the generic store consults (upstream's RESTCreateStrategy/UpdateStrategy/
// GracefulDeleteStrategy): what to reset on create and update, how to validate, how deletion goes.
// Resources register a Strategy by "group/resource"; the rest get the default.
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { FieldError } from '../../api/field_errors.ts';

/** A Kubernetes object as JSON. */
export type KObject = Record<string, unknown>;

/** What the strategy knows about the request. */
export interface StrategyContext {
  readonly info: ResourceInfo;
  /** "status" for the status subresource, "" for the main resource. */
  readonly subresource: string;
  readonly now: Date;
}

/** Result of a graceful-delete check: undefined means delete at once. */
export interface GracefulDelete {
  readonly gracePeriodSeconds: number;
}

/** Per-resource hooks of the generic store; every hook is optional. */
export interface Strategy {
  /** Reset fields the client may not set on create (status …) and set initial ones. */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** Carry over what an update may not change (status on the main resource, spec on /status). */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Field errors of a new object (after defaults). */
  validate?(obj: KObject, ctx: StrategyContext): FieldError[];
  /** Field errors of an update. */
  validateUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[];
  /** Whether PUT on a missing object creates it. */
  readonly allowCreateOnUpdate?: boolean;
  /** Whether metadata.generation is maintained (bumped on spec changes). */
  readonly tracksGeneration?: boolean;
  /** Decide graceful deletion; `requested` is DeleteOptions.gracePeriodSeconds. */
  checkGracefulDelete?(obj: KObject, requested: number | undefined): GracefulDelete | undefined;
  /** Whether DELETE answers with the deleted object rather than a Success status. */
  readonly returnDeletedObject?: boolean;
  /** Names are checked with this validator (returns messages); default DNS-1123 subdomain. */
  nameValidator?(name: string, prefix: boolean): string[];
  /** Whether an object being deleted with no finalizers left may go now (namespaces also wait for spec.finalizers). */
  canFinishDeletion?(obj: KObject): boolean;
  /** Instead of deleting, mark for deletion (namespaces): 'update' keeps the object, marked. */
  beforeDelete?(obj: KObject, ctx: StrategyContext): 'delete' | 'update';
}

const strategies = new Map<string, Strategy>();

/** Registers the strategy of a group/resource. */
export function registerStrategy(group: string, resource: string, strategy: Strategy): void {
  strategies.set(`${group}/${resource}`, strategy);
}

/** The strategy of a group/resource, or the default. */
export function strategyFor(group: string, resource: string): Strategy {
  return strategies.get(`${group}/${resource}`) ?? {};
}
