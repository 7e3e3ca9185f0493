// ConfigMap, Secret and Namespace validation beyond ObjectMeta: data keys and the 1 MiB size
// limit, the per-type requirements of Secrets, immutability, and namespace finalizer names.

import { forbidden, invalid, newPath, required, tooLong, type ErrorList, type Path } from '../field_errors.ts';
import { utf8Length } from '../go_strings.ts';
import { isConfigMapKey, isQualifiedName } from './names.ts';
import { isObj, objOr, semanticEqual, str, strMap, type Obj } from './values.ts';

/** core.MaxSecretSize: 1 MiB, also the ConfigMap limit. */
export const MAX_SECRET_SIZE = 1024 * 1024;

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** validateKubeFinalizerName: unqualified names must be one of the standard finalizers. */
export function validateKubeFinalizerName(value: string, fldPath: Path): ErrorList {
  if (value.includes('/') || STANDARD_FINALIZERS.has(value)) return [];
  return [invalid(fldPath, value, 'name is neither a standard finalizer name nor is it fully qualified')];
}

/** The core ValidateObjectMeta wrapper's extra check on metadata.finalizers[i]. */
export function validateMetadataKubeFinalizers(obj: Obj): ErrorList {
  const finalizers = objOr(obj['metadata'])['finalizers'];
  if (!Array.isArray(finalizers)) return [];
  return finalizers.flatMap((f, i) => validateKubeFinalizerName(str(f), newPath('metadata', 'finalizers').index(i)));
}

function base64Length(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
}

function keyErrors(key: string, fldPath: Path): ErrorList {
  return isConfigMapKey(key).map((m) => invalid(fldPath, key, m));
}

/** ValidateConfigMap without ObjectMeta. */
export function validateConfigMap(cm: Obj): ErrorList {
  const errs: ErrorList = [];
  const data = objOr(cm['data']);
  const binaryData = objOr(cm['binaryData']);
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    const p = newPath('data').key(key);
    errs.push(...keyErrors(key, p));
    if (key in binaryData) errs.push(invalid(p, key, 'duplicate of key present in binaryData'));
    total += utf8Length(str(value));
  }
  for (const [key, value] of Object.entries(binaryData)) {
    errs.push(...keyErrors(key, newPath('binaryData').key(key)));
    total += base64Length(value);
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(newPath(''), MAX_SECRET_SIZE));
  return errs;
}

function immutableWhenSet(obj: Obj, old: Obj, fields: readonly string[]): ErrorList {
  if (old['immutable'] !== true) return [];
  const errs: ErrorList = [];
  if (obj['immutable'] !== true) errs.push(forbidden(newPath('immutable'), 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!semanticEqual(obj[f], old[f])) errs.push(forbidden(newPath(f), 'field is immutable when `immutable` is set'));
  }
  return errs;
}

/** ValidateConfigMapUpdate without ObjectMeta. */
export function validateConfigMapUpdate(cm: Obj, old: Obj): ErrorList {
  return [...immutableWhenSet(cm, old, ['data', 'binaryData']), ...validateConfigMap(cm)];
}

// encoding/json's complaint about a document that is not a JSON object (the common cases: empty
// input, misspelt literals, a first character no value starts with, a non-object value).
function jsonObjectError(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  const trimmed = text.replace(/^[ \t\r\n]+/, '');
  if (trimmed === '') return 'unexpected end of JSON input';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const first = trimmed[0] as string;
    for (const literal of ['true', 'false', 'null']) {
      if (first !== literal[0]) continue;
      for (let i = 1; i < literal.length; i++) {
        if (i >= trimmed.length) return 'unexpected end of JSON input';
        if (trimmed[i] !== literal[i]) return `invalid character '${trimmed[i]}' in literal ${literal} (expecting '${literal[i]}')`;
      }
    }
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (isObj(parsed) || parsed === null) return null;
  const kind = Array.isArray(parsed) ? 'array' : typeof parsed === 'string' ? 'string' : typeof parsed === 'number' ? 'number' : 'bool';
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

/** ValidateSecret without ObjectMeta. */
export function validateSecret(secret: Obj): ErrorList {
  const errs: ErrorList = [];
  const dataPath = newPath('data');
  const data = objOr(secret['data']);
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    errs.push(...keyErrors(key, dataPath.key(key)));
    total += base64Length(value);
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(dataPath, MAX_SECRET_SIZE));
  const annotations = strMap(objOr(secret['metadata'])['annotations']);
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  switch (str(secret['type'])) {
    case 'kubernetes.io/service-account-token':
      if ((annotations['kubernetes.io/service-account.name'] ?? '') === '') {
        errs.push(required(newPath('metadata', 'annotations').key('kubernetes.io/service-account.name'), ''));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = str(secret['type']) === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) {
        errs.push(required(dataPath.key(key), ''));
        break;
      }
      const e = jsonObjectError(Buffer.from(str(data[key]), 'base64'));
      if (e !== null) errs.push(invalid(dataPath.key(key), '<secret contents redacted>', e));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        errs.push(required(dataPath.key('username'), ''));
        errs.push(required(dataPath.key('password'), ''));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (base64Length(data['ssh-privatekey']) === 0) errs.push(required(dataPath.key('ssh-privatekey'), ''));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required(dataPath.key('tls.crt'), ''));
      if (!has('tls.key')) errs.push(required(dataPath.key('tls.key'), ''));
      break;
  }
  return errs;
}

/** ValidateSecretUpdate without ObjectMeta. */
export function validateSecretUpdate(secret: Obj, old: Obj): ErrorList {
  const errs: ErrorList = [];
  const type = str(secret['type']);
  if (type !== str(old['type'])) errs.push(invalid(newPath('type'), type, 'field is immutable'));
  errs.push(...immutableWhenSet(secret, old, ['data']));
  errs.push(...validateSecret(secret));
  return errs;
}

/** ValidateNamespace without ObjectMeta: spec.finalizers names (reported on the list's path). */
export function validateNamespace(ns: Obj): ErrorList {
  const p = newPath('spec', 'finalizers');
  const finalizers = objOr(ns['spec'])['finalizers'];
  if (!Array.isArray(finalizers)) return [];
  return finalizers.flatMap((f) => {
    const name = str(f);
    return [...isQualifiedName(name).map((m) => invalid(p, name, m)), ...validateKubeFinalizerName(name, p)];
  });
}
