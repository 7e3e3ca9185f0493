// The audit annotations webhook dispatch writes (upstream's webhookAnnotator and the dispatchers):
// a webhook's own auditAnnotations as `<webhook>/<key>`, per mutating call whether it mutated and
// (from level Request) its patch, and which calls failed open.
import { goJSON } from '../../../api/apply/fieldpath.ts';
import { logger } from '../../../base/log.ts';
import { levelLess } from '../../audit/policy.ts';
import { addAuditAnnotation, auditAnnotationSink, type AdmissionAttributes } from '../types.ts';

const log = logger('admission-webhook');

/** Annotation key prefixes, as upstream spells them. */
export const WEBHOOK_ANNOTATION = {
  mutation: 'mutation.webhook.admission.k8s.io/',
  patch: 'patch.webhook.admission.k8s.io/',
  mutationFailedOpen: 'failed-open.mutation.webhook.admission.k8s.io/',
  validatingFailedOpen: 'failed-open.validating.webhook.admission.k8s.io/',
} as const;

/** The auditAnnotations of a webhook's answer, each under `<webhook name>/<key>`. */
export function addWebhookAuditAnnotations(a: AdmissionAttributes, webhook: string, annotations: Readonly<Record<string, string>>): void {
  if (!auditAnnotationSink(a)) return;
  for (const [k, v] of Object.entries(annotations)) addAuditAnnotation(a, `${webhook}/${k}`, v);
}

/** A validating webhook call that failed and was ignored (failurePolicy Ignore). */
export function addValidatingFailedOpenAnnotation(a: AdmissionAttributes, index: number, webhook: string): void {
  addAuditAnnotation(a, `${WEBHOOK_ANNOTATION.validatingFailedOpen}round_0_index_${index}`, webhook);
}

/** The annotations of one mutating webhook call: round 0, or 1 for a reinvocation; index in the webhook list. */
export class MutationAnnotator {
  readonly #a: AdmissionAttributes;
  readonly #suffix: string;
  readonly #configuration: string;
  readonly #webhook: string;

  constructor(a: AdmissionAttributes, opts: { round: number; index: number; configuration: string; webhook: string }) {
    this.#a = a;
    this.#suffix = `round_${opts.round}_index_${opts.index}`;
    this.#configuration = opts.configuration;
    this.#webhook = opts.webhook;
  }

  /** Whether the call changed the object (MutationAuditAnnotation). */
  mutation(mutated: boolean): void {
    addAuditAnnotation(this.#a, WEBHOOK_ANNOTATION.mutation + this.#suffix,
      goJSON({ configuration: this.#configuration, webhook: this.#webhook, mutated }));
  }

  /** The JSON patch the webhook answered with (PatchAuditAnnotation), kept from level Request. */
  patch(rawPatch: Buffer): void {
    const sink = auditAnnotationSink(this.#a);
    // Re-encoding a patch is not free: only for requests whose level will keep it.
    if (!sink || levelLess(sink.level, 'Request')) return;
    let patch: string;
    try {
      patch = encodeJSONPatch(rawPatch.toString('utf8'));
    } catch (e) {
      log.warn('unexpected error composing mutating webhook JSON patch annotation', { webhook: this.#webhook, err: e instanceof Error ? e.message : String(e) });
      return;
    }
    const value = `{"configuration":${goJSON(this.#configuration)},"webhook":${goJSON(this.#webhook)},"patch":${patch},"patchType":"JSONPatch"}`;
    addAuditAnnotation(this.#a, WEBHOOK_ANNOTATION.patch + this.#suffix, value, 'Request');
  }

  /** The call failed and failurePolicy Ignore let the request go on. */
  failedOpen(): void {
    addAuditAnnotation(this.#a, WEBHOOK_ANNOTATION.mutationFailedOpen + this.#suffix, this.#webhook);
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const HTML_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** Index just past the JSON value starting at `i` (the text is known to be valid JSON). */
function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') {
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === '"') return j + 1;
    }
    return s.length;
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') j = skipValue(s, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return s.length;
  }
  let j = i;
  while (j < s.length && !WS.has(s[j] as string) && s[j] !== ',' && s[j] !== '}' && s[j] !== ']') j++;
  return j;
}

function skipWS(s: string, i: number): number {
  while (i < s.length && WS.has(s[i] as string)) i++;
  return i;
}

/** encoding/json's compact with HTML escaping: raw JSON as written, without insignificant space. */
function compact(raw: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (inString) {
      if (c === '\\') {
        out += c + (raw[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '"') inString = false;
      out += HTML_ESCAPES[c] ?? c;
      continue;
    }
    if (WS.has(c)) continue;
    if (c === '"') inString = true;
    out += c;
  }
  return out;
}

/**
 * The patch as Go re-encodes a decoded jsonpatch.Patch: each operation is a map of raw values, so
 * its keys come out sorted (the last of duplicates wins) and each value is its raw text compacted.
 * `text` must be a JSON array of objects (already parsed successfully).
 */
export function encodeJSONPatch(text: string): string {
  const ops: string[] = [];
  let i = skipWS(text, 0) + 1; // past '['
  for (;;) {
    i = skipWS(text, i);
    if (text[i] === ']' || i >= text.length) break;
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] !== '{') throw new Error(`expected an operation object at offset ${i}`);
    const fields = new Map<string, string>();
    i++;
    for (;;) {
      i = skipWS(text, i);
      if (text[i] === '}' || i >= text.length) {
        i++;
        break;
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] !== '"') throw new Error(`expected an operation's key at offset ${i}`);
      const keyEnd = skipValue(text, i);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      i = skipWS(text, keyEnd) + 1; // past ':'
      i = skipWS(text, i);
      const valueEnd = skipValue(text, i);
      fields.delete(key);
      fields.set(key, compact(text.slice(i, valueEnd)));
      i = valueEnd;
    }
    const keys = [...fields.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    ops.push(`{${keys.map((k) => `${goJSON(k)}:${fields.get(k) as string}`).join(',')}}`);
  }
  return `[${ops.join(',')}]`;
}
