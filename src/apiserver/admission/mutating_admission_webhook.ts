// MutatingAdmissionWebhook: calls the MutatingWebhookConfigurations' webhooks one after another,
// applying each JSONPatch answer to the object, and once more for IfNeeded webhooks when a later
// webhook changed the object. Call failures obey failurePolicy; denials are final; each call is audited.
import { jsonPatch, PatchError } from '../../api/patch/json_patch.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import { ApiError, newInternal } from '../errors.ts';
import { logger } from '../../base/log.ts';
import type { KObject } from '../registry/strategy.ts';
import { authorizerOption } from './cel/activation.ts';
import { auditAnnotationSink, registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';
import { fromMatchedVersion } from './webhook/admission_review.ts';
import { MutationAnnotator } from './webhook/annotations.ts';
import { callHook, shouldCallHook, type Invocation } from './webhook/dispatch.ts';
import { WebhookCallError, withWarnings } from './webhook/errors.ts';
import { isExemptAdmissionConfigurationResource } from './webhook/rules.ts';
import { WebhookSource, type WebhookAccessor } from './webhook/source.ts';

const log = logger('admission-webhook');

function replaceContents(target: KObject, source: KObject): void {
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, source);
}

/** The MutatingAdmissionWebhook plugin. */
export class MutatingAdmissionWebhook implements AdmissionPlugin {
  readonly name = 'MutatingAdmissionWebhook';
  readonly #source = new WebhookSource('mutatingwebhookconfigurations');
  readonly #authorizer: Authorizer | undefined;

  constructor(opts: { authorizer?: Authorizer } = {}) {
    this.#authorizer = opts.authorizer;
  }

  handles(a: AdmissionAttributes): boolean {
    return !isExemptAdmissionConfigurationResource(a);
  }

  async admit(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    if (a.operation !== 'DELETE') await this.#dispatch(a, lister).catch((e: unknown) => Promise.reject(withWarnings(e, a.warnings)));
  }

  // The registry runs only validating admission for deletes; upstream still calls mutating
  // webhooks then (they may deny, not patch), so they run here, ahead of the validating ones.
  async validate(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    if (a.operation === 'DELETE') await this.#dispatch(a, lister).catch((e: unknown) => Promise.reject(withWarnings(e, a.warnings)));
  }

  async #dispatch(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    const hooks = this.#source.webhooks(lister);
    if (hooks.length === 0) return;
    // Reinvocation bookkeeping as upstream's webhookReinvokeContext.
    let previouslyInvoked = new Set<string>();
    const reinvoke = new Set<string>();
    let changedAny = false;
    for (const [index, hook] of hooks.entries()) {
      const changed = await this.#invoke(hook, a, lister, 0, index);
      if (changed === undefined) continue;
      if (changed) {
        changedAny = true;
        for (const uid of previouslyInvoked) reinvoke.add(uid);
        previouslyInvoked = new Set();
      }
      if (hook.reinvocationPolicy === 'IfNeeded') previouslyInvoked.add(hook.uid);
    }
    if (!changedAny || reinvoke.size === 0) return;
    for (const [index, hook] of hooks.entries()) {
      if (reinvoke.has(hook.uid)) await this.#invoke(hook, a, lister, 1, index);
    }
  }

  /**
   * Calls one webhook if it applies: undefined when skipped, else whether it changed the object.
   * `round` (1 for reinvocations) and `index` (in the webhook list) name its audit annotations.
   */
  async #invoke(hook: WebhookAccessor, a: AdmissionAttributes, lister: AdmissionLister, round: number, index: number): Promise<boolean | undefined> {
    const inv = await shouldCallHook(hook, a, lister, this.#authorizer);
    if (!inv) return undefined;
    const annotator = auditAnnotationSink(a) ? new MutationAnnotator(a, { round, index, configuration: hook.configurationName, webhook: hook.name }) : undefined;
    let changed = false;
    try {
      changed = await this.#call(inv, a, lister, annotator);
      return changed;
    } catch (e) {
      if (e instanceof WebhookCallError) {
        if (hook.failurePolicy === 'Ignore') {
          log.warn('failed calling webhook, failing open', { webhook: hook.name, error: e.message });
          annotator?.failedOpen();
          return false;
        }
        log.warn('failed calling webhook, failing closed', { webhook: hook.name, error: e.message });
        throw newInternal(e);
      }
      throw e;
    } finally {
      annotator?.mutation(changed);
    }
  }

  async #call(inv: Invocation, a: AdmissionAttributes, lister: AdmissionLister, annotator: MutationAnnotator | undefined): Promise<boolean> {
    const name = inv.hook.name;
    const result = await callHook(inv, a, lister, true);
    if (!result.patch || result.patch.length === 0) return false;
    let ops: unknown;
    try {
      ops = JSON.parse(result.patch.toString('utf8'));
      if (!Array.isArray(ops)) throw new Error('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    } catch (e) {
      throw new WebhookCallError(name, `received undecodable patch in webhook response: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (ops.length === 0) return false;
    if (!a.object || !inv.objects.object) {
      throw newInternal(new Error(`admission webhook "${name}" attempted to modify the object, which is not supported for this operation`));
    }
    if (result.patchType !== 'JSONPatch') throw new WebhookCallError(name, `unsupported patch type "${result.patchType}"`);
    let patched: KObject;
    try {
      patched = jsonPatch(inv.objects.object, ops) as KObject;
    } catch (e) {
      if (e instanceof PatchError) throw newInternal(e);
      throw e instanceof ApiError ? e : newInternal(e);
    }
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
      throw newInternal(new Error('the patched object is not a JSON object'));
    }
    const stored = fromMatchedVersion(a, inv.matched, patched);
    annotator?.patch(result.patch);
    if (JSON.stringify(stored) === JSON.stringify(a.object)) return false;
    replaceContents(a.object, stored);
    return true;
  }
}

registerAdmissionPlugin('MutatingAdmissionWebhook', (opts) => new MutatingAdmissionWebhook({ authorizer: authorizerOption(opts) }));
