// The strategy of CustomResourceDefinition objects (apiextensions' registry/customresourcedefinition):
// status.storedVersions follows the storage version, creates and updates are validated, and the
// first DELETE only marks the CRD Terminating behind the cleanup finalizer.
import type { CustomResourceDefinition } from '../../api/types/apiextensions_v1.ts';
import type { FieldError } from '../../api/field_errors.ts';
import { validateCustomResourceDefinition } from '../../api/crd/validation.ts';
import { meta, rfc3339 } from '../registry/object_meta.ts';
import type { KObject, Strategy, StrategyContext } from '../registry/strategy.ts';
import { CRD_CLEANUP_FINALIZER, setCondition, storageVersionOf } from './crd_resources.ts';

function asCrd(obj: KObject): CustomResourceDefinition {
  return obj as unknown as CustomResourceDefinition;
}

/** Adds the storage version to status.storedVersions if it is not there yet. */
function recordStorageVersion(crd: CustomResourceDefinition): void {
  const sv = storageVersionOf(crd);
  if (sv === undefined) return;
  const status = (crd.status ??= {});
  const stored = status.storedVersions ?? [];
  if (!stored.includes(sv)) status.storedVersions = [...stored, sv];
}

/** What registerStrategy adds to the base strategy of customresourcedefinitions. */
export const crdStrategy: Strategy = {
  prepareForCreate(obj: KObject): void {
    // A fresh status as upstream's zero value marshals it: acceptedNames with empty plural and kind.
    obj['status'] = { acceptedNames: { plural: '', kind: '' } };
    recordStorageVersion(asCrd(obj));
  },
  prepareForUpdate(obj: KObject, _old: KObject, ctx: StrategyContext): void {
    if (ctx.subresource === '') recordStorageVersion(asCrd(obj));
  },
  validate(obj: KObject): FieldError[] {
    return validateCustomResourceDefinition(asCrd(obj));
  },
  validateUpdate(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[] {
    if (ctx.subresource !== '') return [];
    return validateCustomResourceDefinition(asCrd(obj), asCrd(old));
  },
  beforeDelete(obj: KObject, ctx: StrategyContext): 'delete' | 'update' {
    const m = meta(obj);
    if (m['deletionTimestamp']) return 'delete';
    const finalizers = Array.isArray(m['finalizers']) ? (m['finalizers'] as string[]) : [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) m['finalizers'] = [...finalizers, CRD_CLEANUP_FINALIZER];
    setCondition(asCrd(obj), {
      type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    }, rfc3339(ctx.now));
    return 'update';
  },
};
