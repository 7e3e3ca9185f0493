// The registry hooks every resource shares: upstream defaulting and ObjectMeta validation (create
// and update), bridging the pure api/ functions to the generic store.
import type { ResourceInfo } from '../../api/resource_types.ts';
import type { FieldError } from '../../api/field_errors.ts';
import { applyDefaults } from '../../api/defaults/registry.ts';
import { prepareForCreate } from '../../api/defaults/prepare_for_create.ts';
import { defaultResetFields, updateManagedFields } from '../../api/apply/field_manager.ts';
import { validateObjectMeta as validateMetaCreate, validateObjectMetaUpdate, type ObjectMetaLike } from '../../api/validation/object_meta.ts';
import { nameIsDNSSubdomain } from '../../api/validation/names.ts';
import { validateObject, validateObjectUpdate } from '../../api/validation/registry.ts';
import type { KObject, Strategy } from './strategy.ts';

/** Applies upstream's defaults for the object's kind in place. */
export function applyObjectDefaults(info: ResourceInfo, obj: KObject): void {
  applyDefaults(info.group, info.version, info.kind, obj);
}

/** ObjectMeta field errors of a create (old undefined) or an update. */
export function validateObjectMeta(info: ResourceInfo, obj: KObject, old: KObject | undefined, strategy: Strategy): FieldError[] {
  const meta = (obj['metadata'] ?? {}) as ObjectMetaLike;
  if (old === undefined) {
    return validateMetaCreate(meta, { requiresNamespace: info.namespaced, nameFn: strategy.nameValidator ?? nameIsDNSSubdomain });
  }
  return validateObjectMetaUpdate(meta, (old['metadata'] ?? {}) as ObjectMetaLike);
}

/** Upstream's create-time preparation (pod status and QoS, namespace finalizer, Service status …). */
export function prepareObjectForCreate(info: ResourceInfo, obj: KObject): void {
  prepareForCreate(info.group, info.version, info.kind, obj);
}

/** The kind's own field validation (create when old is undefined). */
export function validateKindFields(info: ResourceInfo, obj: KObject, old: KObject | undefined): FieldError[] {
  return old === undefined ? validateObject(info.group, info.kind, obj) : validateObjectUpdate(info.group, info.kind, obj, old);
}

/** The writer's managedFields entry folded into the object's (upstream's field manager on every write). */
export function trackManagedFields(info: ResourceInfo, apiVersion: string, live: KObject | undefined, next: KObject, manager: string, subresource: string): unknown[] {
  const hasStatus = info.subresources.some((s) => s.name === 'status');
  return updateManagedFields({
    definition: info.definition, apiVersion, live: live as never, next: next as never, manager,
    subresource: subresource || undefined, time: new Date(),
    resetFields: hasStatus ? defaultResetFields(subresource || undefined) : [],
  });
}
