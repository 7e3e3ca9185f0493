// ValidatingAdmissionPolicy: evaluates the CEL validations of every policy whose bindings select
// the request, per param; Deny refuses with "ValidatingAdmissionPolicy 'p' with binding 'b'
// denied request: …", Warn adds a warning, Audit is recorded; failurePolicy covers errors.
import { ApiError, newForbidden, newNotFound } from '../errors.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import { logger } from '../../base/log.ts';
import { authorizerOption, newActivation } from './cel/activation.ts';
import { getFresh } from './plugin_util.ts';
import { matches } from './policy/matching.ts';
import { collectParams } from './policy/params.ts';
import { PolicySource, type CompiledBinding, type CompiledPolicy } from './policy/source.ts';
import { validate } from './policy/validator.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';
import { versionedObjects } from './webhook/admission_review.ts';
import { withWarnings } from './webhook/errors.ts';
import { isExemptAdmissionConfigurationResource } from './webhook/rules.ts';

const log = logger('validating-admission-policy');

interface Denial {
  readonly policy: CompiledPolicy;
  readonly binding: CompiledBinding | undefined;
  readonly message: string;
  readonly reason?: string;
}

function reasonToCode(reason: string): number {
  if (reason === 'Forbidden') return 403;
  if (reason === 'RequestEntityTooLarge') return 413;
  return 422;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The ValidatingAdmissionPolicy plugin. */
export class ValidatingAdmissionPolicyPlugin implements AdmissionPlugin {
  readonly name = 'ValidatingAdmissionPolicy';
  readonly #source = new PolicySource();
  readonly #authorizer: Authorizer | undefined;

  constructor(opts: { authorizer?: Authorizer } = {}) {
    this.#authorizer = opts.authorizer;
  }

  handles(a: AdmissionAttributes): boolean {
    return !isExemptAdmissionConfigurationResource(a);
  }

  async validate(a: AdmissionAttributes, lister: AdmissionLister): Promise<void> {
    const hooks = this.#source.hooks(lister);
    if (hooks.length === 0) return;
    const denials: Denial[] = [];
    const configError = (policy: CompiledPolicy, binding: CompiledBinding | undefined, err: string): void => {
      if (policy.failurePolicy === 'Ignore') return;
      denials.push({ policy, binding, message: binding ? `failed to configure binding: ${err}` : `failed to configure policy: ${err}` });
    };
    for (const { policy, bindings } of hooks) {
      let matched;
      try {
        matched = await matches(policy.matchConstraints, a, lister);
      } catch (e) {
        configError(policy, undefined, errorText(e));
        continue;
      }
      if (!matched) continue;
      if (policy.configurationError !== undefined) {
        configError(policy, undefined, policy.configurationError);
        continue;
      }
      const objects = versionedObjects(a, matched);
      for (const binding of bindings) {
        try {
          if (binding.matchResources && !(await matches(binding.matchResources, a, lister))) continue;
        } catch (e) {
          configError(policy, binding, errorText(e));
          continue;
        }
        let params;
        try {
          params = await collectParams(policy, binding, a.namespace, lister);
        } catch (e) {
          configError(policy, binding, errorText(e));
          continue;
        }
        // A Namespace request carries its own name as namespace upstream; it has no namespaceObject.
        const isNamespace = matched.kind.group === '' && matched.kind.kind === 'Namespace';
        const nsName = isNamespace ? '' : a.namespace;
        const namespace = nsName === '' ? undefined : await getFresh(lister, '', 'namespaces', '', nsName);
        if (nsName !== '' && !namespace) throw newNotFound({ group: '', resource: 'namespace' }, nsName);
        for (const param of params) {
          const activation = newActivation({ attrs: a, matched, objects, params: param, namespace, authorizer: this.#authorizer });
          const result = await validate(policy, activation);
          for (const d of result.decisions) {
            if (d.action !== 'deny') continue;
            for (const action of binding.validationActions) {
              if (action === 'Deny') denials.push({ policy, binding, message: d.message, reason: d.reason });
              else if (action === 'Warn') {
                a.warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policy.name}' with binding '${binding.name}': ${d.message}`);
              } else if (action === 'Audit') {
                log.debug('validation failure (audit)', { policy: policy.name, binding: binding.name, message: d.message });
              }
            }
          }
          for (const err of result.auditAnnotationErrors) denials.push({ policy, binding, message: err });
        }
      }
    }
    if (denials.length === 0) return;
    const first = denials[0]!;
    const message = first.binding
      ? `ValidatingAdmissionPolicy '${first.policy.name}' with binding '${first.binding.name}' denied request: ${first.message}`
      : `ValidatingAdmissionPolicy '${first.policy.name}' denied request: ${first.message}`;
    const forbidden = newForbidden({ group: a.info.group, resource: a.info.resource }, a.name, message);
    const reason = first.reason ?? 'Invalid';
    throw withWarnings(new ApiError(reasonToCode(reason), reason, forbidden.message, { ...forbidden.status.details, causes: [{ message }] }), a.warnings);
  }
}

registerAdmissionPlugin('ValidatingAdmissionPolicy', (opts) => new ValidatingAdmissionPolicyPlugin({ authorizer: authorizerOption(opts) }));
