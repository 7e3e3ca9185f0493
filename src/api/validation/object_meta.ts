// ObjectMeta validation on create and update (apimachinery api/validation/objectmeta.go plus the
// meta/v1 label and managedFields checks), with upstream's field paths, order and messages.
// Works on plain JSON metadata as it arrives over the wire.

import {
  forbidden,
  goValue,
  invalid,
  newPath,
  required,
  tooLong,
  type ErrorList,
  type Path,
} from '../field_errors.ts';
import { goQuote, sortGoStrings, utf8Length } from '../go_strings.ts';
import { isQualifiedName, isValidLabelValue, validateNamespaceName, type ValidateNameFunc } from './names.ts';

/** "field is immutable". */
export const FieldImmutableErrorMsg = 'field is immutable';
/** "must be greater than or equal to 0". */
export const IsNegativeErrorMsg = 'must be greater than or equal to 0';
/** Total size of all annotation keys and values: 256 KiB. */
export const TotalAnnotationSizeLimitB = 256 * 1024;
/** Maximum length of a managedFields manager name. */
export const FieldManagerMaxLength = 128;
/** Maximum length of a managedFields subresource. */
export const MaxSubresourceNameLength = 256;

const FinalizerOrphanDependents = 'orphan';
const FinalizerDeleteDependents = 'foregroundDeletion';

/** metav1.OwnerReference as JSON. */
export interface OwnerReferenceLike {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean | null;
  blockOwnerDeletion?: boolean | null;
}

/** metav1.ManagedFieldsEntry as JSON (only the validated fields). */
export interface ManagedFieldsEntryLike {
  manager?: string;
  operation?: string;
  fieldsType?: string;
  subresource?: string;
  [k: string]: unknown;
}

/** metav1.ObjectMeta as JSON. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: OwnerReferenceLike[] | null;
  finalizers?: string[] | null;
  managedFields?: ManagedFieldsEntryLike[] | null;
  [k: string]: unknown;
}

/** Options of validateObjectMeta. */
export interface ObjectMetaOptions {
  /** True for namespaced kinds: namespace is then required, otherwise forbidden. */
  readonly requiresNamespace: boolean;
  /** The kind's name rule (names.ts: nameIsDNSSubdomain, nameIsDNSLabel, ...). */
  readonly nameFn: ValidateNameFunc;
  /** Defaults to `metadata`. */
  readonly path?: Path;
}

/** "0001-01-01 00:00:00 +0000 UTC": how Go prints a metav1.Time in error messages (UTC). */
export function goTimeString(rfc3339: string | null | undefined): string {
  const d = rfc3339 ? new Date(rfc3339) : null;
  if (d === null || Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  let s = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  // Fractional seconds as written (Go keeps nanoseconds; Date keeps milliseconds only).
  const frac = /\.(\d+)/.exec(rfc3339 ?? '');
  if (frac && /[1-9]/.test(frac[1] as string)) s += '.' + (frac[1] as string).replace(/0+$/, '');
  return s + ' +0000 UTC';
}

function goBoolPtr(v: boolean | null | undefined): string {
  // A set pointer prints as an address in Go; no address exists here, so show the value's type only.
  return v === null || v === undefined ? '(*bool)(nil)' : '(*bool)(0xc000000000)';
}

function goOwnerReference(r: OwnerReferenceLike): string {
  return (
    `v1.OwnerReference{APIVersion:${goQuote(r.apiVersion ?? '')}, Kind:${goQuote(r.kind ?? '')}, ` +
    `Name:${goQuote(r.name ?? '')}, UID:${goQuote(r.uid ?? '')}, Controller:${goBoolPtr(r.controller)}, ` +
    `BlockOwnerDeletion:${goBoolPtr(r.blockOwnerDeletion)}}`
  );
}

function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map((v) => goQuote(v)).join(', ')}}`;
}

/** Labels: each key a qualified name, each value a valid label value (errors on the map's path). */
export function validateLabels(labels: Record<string, string> | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, fldPath));
    for (const msg of isValidLabelValue(v)) errs.push(invalid(fldPath, v, msg));
  }
  return errs;
}

/** A label key must be a qualified name. */
export function validateLabelName(labelName: string, fldPath: Path): ErrorList {
  return isQualifiedName(labelName).map((msg) => invalid(fldPath, labelName, msg));
}

/** Sum of key and value byte lengths; over 256 KiB is too long. */
export function annotationsSize(annotations: Record<string, string> | null | undefined): number {
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) total += utf8Length(k) + utf8Length(v);
  return total;
}

/** Annotation keys are qualified names in any case; the total size is capped at 256 KiB. */
export function validateAnnotations(annotations: Record<string, string> | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  for (const k of Object.keys(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(fldPath, k, msg));
  }
  if (annotationsSize(annotations) > TotalAnnotationSizeLimitB) errs.push(tooLong(fldPath, TotalAnnotationSizeLimitB));
  return errs;
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  // schema.ParseGroupVersion as FromAPIVersionAndKind uses it: "v1" is core, "a/b" is group/version,
  // anything else leaves both empty.
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0] as string, version: parts[1] as string };
  return { group: '', version: '' };
}

function validateOwnerReference(ref: OwnerReferenceLike, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const gv = splitAPIVersion(ref.apiVersion ?? '');
  const kind = ref.kind ?? '';
  if (gv.version.length === 0) errs.push(invalid(fldPath.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
  if (kind.length === 0) errs.push(invalid(fldPath.child('kind'), kind, 'kind must not be empty'));
  if ((ref.name ?? '').length === 0) errs.push(invalid(fldPath.child('name'), ref.name ?? '', 'name must not be empty'));
  if ((ref.uid ?? '').length === 0) errs.push(invalid(fldPath.child('uid'), ref.uid ?? '', 'uid must not be empty'));
  if (gv.group === '' && gv.version === 'v1' && kind === 'Event') {
    errs.push(invalid(fldPath, goValue(goOwnerReference(ref)), `${gv.group}/${gv.version}, Kind=${kind} is disallowed from being an owner`));
  }
  return errs;
}

/** Each reference complete, core/v1 Event never an owner, at most one controller. */
export function validateOwnerReferences(refs: readonly OwnerReferenceLike[] | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  let firstControllerName = '';
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, fldPath));
    if (ref.controller === true) {
      const cur = `${ref.kind ?? ''}/${ref.name ?? ''}`;
      if (firstControllerName !== '') {
        errs.push(
          invalid(
            fldPath,
            goValue(`[]v1.OwnerReference{${(refs ?? []).map(goOwnerReference).join(', ')}}`),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstControllerName} and ${cur}`,
          ),
        );
      } else {
        firstControllerName = cur;
      }
    }
  }
  return errs;
}

/** A finalizer must be a qualified name. */
export function validateFinalizerName(value: string, fldPath: Path): ErrorList {
  return isQualifiedName(value).map((msg) => invalid(fldPath, value, msg));
}

/** Finalizer names, and never both orphan and foregroundDeletion. */
export function validateFinalizers(finalizers: readonly string[] | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  let orphan = false;
  let foreground = false;
  for (const f of finalizers ?? []) {
    errs.push(...validateFinalizerName(f, fldPath));
    if (f === FinalizerOrphanDependents) orphan = true;
    if (f === FinalizerDeleteDependents) foreground = true;
  }
  if (orphan && foreground) {
    errs.push(
      invalid(
        fldPath,
        goValue(goStringSlice(finalizers ?? [])),
        `finalizer ${FinalizerOrphanDependents} and ${FinalizerDeleteDependents} cannot be both set`,
      ),
    );
  }
  return errs;
}

/** Once deletion started, no finalizer may be added. */
export function validateNoNewFinalizers(
  newFinalizers: readonly string[] | null | undefined,
  oldFinalizers: readonly string[] | null | undefined,
  fldPath: Path,
): ErrorList {
  const old = new Set(oldFinalizers ?? []);
  const extra = sortGoStrings([...new Set((newFinalizers ?? []).filter((f) => !old.has(f)))]);
  if (extra.length === 0) return [];
  return [forbidden(fldPath, `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`)];
}

/** Rejects negative values. */
export function validateNonnegativeField(value: number, fldPath: Path): ErrorList {
  return value < 0 ? [invalid(fldPath, value, IsNegativeErrorMsg)] : [];
}

function isGoPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

/** A field manager name: at most 128 bytes, printable characters only. */
export function validateFieldManager(fieldManager: string, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (utf8Length(fieldManager) > FieldManagerMaxLength) errs.push(tooLong(fldPath, FieldManagerMaxLength));
  let bytePos = 0;
  for (const ch of fieldManager) {
    const cp = ch.codePointAt(0) ?? 0;
    if (!isGoPrint(cp)) {
      const u = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
      errs.push(invalid(fldPath, fieldManager, `invalid character ${u} (at position ${bytePos})`));
    }
    bytePos += utf8Length(ch);
  }
  return errs;
}

/** managedFields entries: operation Apply|Update, fieldsType FieldsV1, manager and subresource rules. */
export function validateManagedFields(entries: readonly ManagedFieldsEntryLike[] | null | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  (entries ?? []).forEach((e, i) => {
    const p = fldPath.index(i);
    if (e.operation !== 'Apply' && e.operation !== 'Update') {
      errs.push(invalid(p.child('operation'), e.operation ?? '', 'must be `Apply` or `Update`'));
    }
    if ((e.fieldsType ?? '').length > 0 && e.fieldsType !== 'FieldsV1') {
      errs.push(invalid(p.child('fieldsType'), e.fieldsType, 'must be `FieldsV1`'));
    }
    errs.push(...validateFieldManager(e.manager ?? '', p.child('manager')));
    if (utf8Length(e.subresource ?? '') > MaxSubresourceNameLength) {
      errs.push(tooLong(p.child('subresource'), MaxSubresourceNameLength));
    }
  });
  return errs;
}

/**
 * ValidateObjectMeta on create, after name generation: name (or generateName), namespace by scope,
 * generation, labels, annotations, ownerReferences, finalizers, managedFields.
 */
export function validateObjectMeta(meta: ObjectMetaLike, opts: ObjectMetaOptions): ErrorList {
  const fldPath = opts.path ?? newPath('metadata');
  const errs: ErrorList = [];
  const generateName = meta.generateName ?? '';
  if (generateName.length !== 0) {
    for (const msg of opts.nameFn(generateName, true)) errs.push(invalid(fldPath.child('generateName'), generateName, msg));
  }
  const name = meta.name ?? '';
  if (name.length === 0) {
    errs.push(required(fldPath.child('name'), 'name or generateName is required'));
  } else {
    for (const msg of opts.nameFn(name, false)) errs.push(invalid(fldPath.child('name'), name, msg));
  }
  const namespace = meta.namespace ?? '';
  if (opts.requiresNamespace) {
    if (namespace.length === 0) {
      errs.push(required(fldPath.child('namespace'), ''));
    } else {
      for (const msg of validateNamespaceName(namespace, false)) errs.push(invalid(fldPath.child('namespace'), namespace, msg));
    }
  } else if (namespace.length !== 0) {
    errs.push(forbidden(fldPath.child('namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(meta.generation ?? 0, fldPath.child('generation')));
  errs.push(...validateLabels(meta.labels, fldPath.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, fldPath.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, fldPath.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, fldPath.child('finalizers')));
  errs.push(...validateManagedFields(meta.managedFields, fldPath.child('managedFields')));
  return errs;
}

function timeValue(t: string | null | undefined): number | null {
  if (t === null || t === undefined || t === '') return null;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/**
 * ValidateObjectMetaUpdate: no new finalizers while deleting, resourceVersion present, generation
 * not decremented, name/namespace/uid/creationTimestamp/deletionTimestamp/deletionGracePeriodSeconds
 * immutable, then the same label/annotation/ownerReference/managedFields checks as on create.
 */
export function validateObjectMetaUpdate(newMeta: ObjectMetaLike, oldMeta: ObjectMetaLike, path?: Path): ErrorList {
  const fldPath = path ?? newPath('metadata');
  const errs: ErrorList = [];
  if (oldMeta.deletionTimestamp) {
    errs.push(...validateNoNewFinalizers(newMeta.finalizers, oldMeta.finalizers, fldPath.child('finalizers')));
  }
  const rv = newMeta.resourceVersion ?? '';
  if (rv.length === 0) errs.push(invalid(fldPath.child('resourceVersion'), rv, 'must be specified for an update'));
  const newGen = newMeta.generation ?? 0;
  if (newGen < (oldMeta.generation ?? 0)) errs.push(invalid(fldPath.child('generation'), newGen, 'must not be decremented'));

  // Paths and Go renderings are made only for a field that changed: this runs on every update.
  if ((newMeta.name ?? '') !== (oldMeta.name ?? '')) errs.push(invalid(fldPath.child('name'), newMeta.name ?? '', FieldImmutableErrorMsg));
  if ((newMeta.namespace ?? '') !== (oldMeta.namespace ?? '')) errs.push(invalid(fldPath.child('namespace'), newMeta.namespace ?? '', FieldImmutableErrorMsg));
  if ((newMeta.uid ?? '') !== (oldMeta.uid ?? '')) errs.push(invalid(fldPath.child('uid'), newMeta.uid ?? '', FieldImmutableErrorMsg));
  if (newMeta.creationTimestamp !== oldMeta.creationTimestamp && timeValue(newMeta.creationTimestamp) !== timeValue(oldMeta.creationTimestamp)) {
    errs.push(invalid(fldPath.child('creationTimestamp'), goValue(goTimeString(newMeta.creationTimestamp)), FieldImmutableErrorMsg));
  }
  if (newMeta.deletionTimestamp !== oldMeta.deletionTimestamp) {
    const newDel = timeValue(newMeta.deletionTimestamp);
    if (newDel !== timeValue(oldMeta.deletionTimestamp)) {
      errs.push(invalid(fldPath.child('deletionTimestamp'), newDel === null ? null : goValue(goTimeString(newMeta.deletionTimestamp)), FieldImmutableErrorMsg));
    }
  }
  const newGrace = newMeta.deletionGracePeriodSeconds ?? null;
  if (newGrace !== (oldMeta.deletionGracePeriodSeconds ?? null)) errs.push(invalid(fldPath.child('deletionGracePeriodSeconds'), newGrace, FieldImmutableErrorMsg));

  errs.push(...validateLabels(newMeta.labels, fldPath.child('labels')));
  errs.push(...validateAnnotations(newMeta.annotations, fldPath.child('annotations')));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, fldPath.child('ownerReferences')));
  errs.push(...validateManagedFields(newMeta.managedFields, fldPath.child('managedFields')));
  return errs;
}
