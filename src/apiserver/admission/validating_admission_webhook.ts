// ValidatingAdmissionWebhook: calls every applicable webhook of the ValidatingWebhookConfigurations
// at once and refuses the request with the first refusal to arrive. Call failures obey
// failurePolicy (Fail: 500 "Internal error occurred: failed calling webhook …"); denials are final.
import { logger } from '../../base/log.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import { newInternal } from '../errors.ts';
import { authorizerOption } from './cel/activation.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';
import { addValidatingFailedOpenAnnotation } from './webhook/annotations.ts';
import { callHook, shouldCallHook, type Invocation } from './webhook/dispatch.ts';
import { WebhookCallError, withWarnings } from './webhook/errors.ts';
import { isExemptAdmissionConfigurationResource } from './webhook/rules.ts';
import { WebhookSource } from './webhook/source.ts';

const log = logger('admission-webhook');

/** The ValidatingAdmissionWebhook plugin. */
export class ValidatingAdmissionWebhook implements AdmissionPlugin {
  readonly name = 'ValidatingAdmissionWebhook';
  readonly #source = new WebhookSource('validatingwebhookconfigurations');
  readonly #authorizer: Authorizer | undefined;

  constructor(opts: { authorizer?: Authorizer } = {}) {
    this.#authorizer = opts.authorizer;
  }

  handles(a: AdmissionAttributes): boolean {
    return !isExemptAdmissionConfigurationResource(a);
  }

  async validate(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    const hooks = this.#source.webhooks(lister);
    if (hooks.length === 0) return;
    const relevant: Invocation[] = [];
    for (const hook of hooks) {
      const inv = await shouldCallHook(hook, a, lister, this.#authorizer);
      if (inv) relevant.push(inv);
    }
    if (relevant.length === 0) return;
    // Errors in the order they arrive; upstream also returns the first one.
    const errors: Error[] = [];
    await Promise.all(relevant.map(async (inv, index) => {
      try {
        await callHook(inv, a, lister, false);
      } catch (e) {
        if (e instanceof WebhookCallError) {
          if (inv.hook.failurePolicy === 'Ignore') {
            log.warn('failed calling webhook, failing open', { webhook: inv.hook.name, error: e.message });
            addValidatingFailedOpenAnnotation(a, index, inv.hook.name);
            return;
          }
          log.warn('failed calling webhook, failing closed', { webhook: inv.hook.name, error: e.message });
          errors.push(newInternal(e));
          return;
        }
        errors.push(e instanceof Error ? e : new Error(String(e)));
      }
    }));
    if (errors.length > 0) throw withWarnings(errors[0], a.warnings);
  }
}

registerAdmissionPlugin('ValidatingAdmissionWebhook', (opts) => new ValidatingAdmissionWebhook({ authorizer: authorizerOption(opts) }));
