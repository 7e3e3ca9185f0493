// The webhooks of all Mutating- or ValidatingWebhookConfigurations, read from the API server's
// watch cache (an informer: no storage reads per request) and prepared once per configuration
// version: parsed selectors and compiled matchConditions, sorted by configuration name as upstream.
import { compileExpression } from '../../../api/cel/environment.ts';
import type { KObject } from '../../registry/strategy.ts';
import type { NamedCondition } from '../cel/matcher.ts';
import { getArr, getStr, metaOf, type Obj } from '../plugin_util.ts';
import type { AdmissionLister } from '../types.ts';
import { parseSelector, type ParsedSelector } from './predicates.ts';

/** One webhook of a configuration, ready to dispatch (upstream's WebhookAccessor). */
export interface WebhookAccessor {
  /** Unique per configuration and position ("<config>/<webhook>/<index>"). */
  readonly uid: string;
  readonly configurationName: string;
  readonly name: string;
  /** The webhook as stored (defaulted v1). */
  readonly hook: Obj;
  readonly rules: readonly Obj[];
  readonly matchPolicy: string;
  readonly failurePolicy: string;
  readonly sideEffects: string | undefined;
  readonly timeoutSeconds: number;
  readonly reinvocationPolicy: string;
  readonly admissionReviewVersions: readonly string[];
  readonly namespaceSelector: ParsedSelector;
  readonly objectSelector: ParsedSelector;
  readonly matchConditions: readonly NamedCondition[];
}

/** Which configurations a source reads. */
export type WebhookKind = 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations';

function prepare(config: KObject): WebhookAccessor[] {
  const configurationName = getStr(metaOf(config), 'name');
  return getArr(config, 'webhooks').map((hook, i) => {
    const name = getStr(hook, 'name');
    const timeout = hook['timeoutSeconds'];
    return {
      uid: `${configurationName}/${name}/${i}`,
      configurationName,
      name,
      hook,
      rules: getArr(hook, 'rules'),
      matchPolicy: getStr(hook, 'matchPolicy') || 'Equivalent',
      failurePolicy: getStr(hook, 'failurePolicy') || 'Fail',
      sideEffects: typeof hook['sideEffects'] === 'string' ? hook['sideEffects'] : undefined,
      timeoutSeconds: typeof timeout === 'number' ? timeout : 10,
      reinvocationPolicy: getStr(hook, 'reinvocationPolicy') || 'Never',
      admissionReviewVersions: Array.isArray(hook['admissionReviewVersions']) ? (hook['admissionReviewVersions'] as string[]) : [],
      namespaceSelector: parseSelector(hook['namespaceSelector']),
      objectSelector: parseSelector(hook['objectSelector']),
      matchConditions: getArr(hook, 'matchConditions').map((mc) => ({
        name: getStr(mc, 'name'),
        compiled: compileExpression(getStr(mc, 'expression'), 'bool', { hasParams: false, hasAuthorizer: true }),
      })),
    };
  });
}

/** The webhooks of one configuration kind, rebuilt only when a configuration changes. */
export class WebhookSource {
  readonly #resource: WebhookKind;
  /** Prepared webhooks per configuration uid, with the resourceVersion they were built from. */
  #prepared = new Map<string, { rv: string; hooks: WebhookAccessor[] }>();
  #key = '';
  #all: WebhookAccessor[] = [];

  constructor(resource: WebhookKind) {
    this.#resource = resource;
  }

  /** The current webhooks, configurations in name order, webhooks in their order. */
  webhooks(lister: AdmissionLister): readonly WebhookAccessor[] {
    const configs = lister.list('admissionregistration.k8s.io', this.#resource);
    const key = configs.map((c) => `${getStr(metaOf(c), 'uid')}@${getStr(metaOf(c), 'resourceVersion')}`).join(',');
    if (key === this.#key) return this.#all;
    const next = new Map<string, { rv: string; hooks: WebhookAccessor[] }>();
    for (const c of configs) {
      const uid = getStr(metaOf(c), 'uid'), rv = getStr(metaOf(c), 'resourceVersion');
      const cached = this.#prepared.get(uid);
      next.set(uid, cached && cached.rv === rv ? cached : { rv, hooks: prepare(c) });
    }
    const sorted = [...configs].sort((x, y) => {
      const a = getStr(metaOf(x), 'name'), b = getStr(metaOf(y), 'name');
      return a < b ? -1 : a > b ? 1 : 0;
    });
    this.#prepared = next;
    this.#key = key;
    this.#all = sorted.flatMap((c) => next.get(getStr(metaOf(c), 'uid'))!.hooks);
    return this.#all;
  }
}
