// ValidatingAdmissionPolicy: evaluates the CEL validations of every policy whose bindings select the
// request, per param; Deny refuses with "ValidatingAdmissionPolicy 'p' with binding 'b' denied request:
// …", Warn adds a warning, Audit and auditAnnotations become audit annotations; failurePolicy covers errors.
import { goJSON } from '../../api/apply/fieldpath.ts';
import { ApiError, newForbidden, newNotFound } from '../errors.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import { authorizerOption, newActivation } from './cel/activation.ts';
import { getFresh } from './plugin_util.ts';
import { matches } from './policy/matching.ts';
import { collectParams } from './policy/params.ts';
import { PolicySource, type CompiledBinding, type CompiledPolicy } from './policy/source.ts';
import { validate } from './policy/validator.ts';
import {
  addAuditAnnotation, auditAnnotationSink, registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin,
} from './types.ts';
import { versionedObjects } from './webhook/admission_review.ts';
import { withWarnings } from './webhook/errors.ts';
import { isExemptAdmissionConfigurationResource } from './webhook/rules.ts';

/** The annotation an Audit action writes (its value: a JSON list of ValidationFailureValue). */
export const VALIDATION_FAILURE_ANNOTATION = 'validation.policy.admission.k8s.io/validation_failure';
/** Longer auditAnnotation values are cut to this many bytes. */
const MAX_AUDIT_ANNOTATION_VALUE_BYTES = 10 * 1024;

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

/** publishValidationFailureAnnotation: the fields in ValidationFailureValue's order. */
function validationFailureValue(binding: CompiledBinding, expressionIndex: number, message: string): string {
  return goJSON([{ message, policy: binding.policyName, binding: binding.name, expressionIndex, validationActions: binding.validationActions }]);
}

function truncateBytes(value: string, max: number): string {
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length <= max ? value : bytes.subarray(0, max).toString('utf8');
}

/**
 * A policy's auditAnnotations over all its bindings and params: a key's distinct values, joined
 * with ", " when params made them differ, published as `<policy>/<key>`.
 */
class AuditAnnotationCollector {
  readonly #values = new Map<string, string[]>();

  add(key: string, value: string): void {
    const values = this.#values.get(key);
    if (!values) this.#values.set(key, [value]);
    else if (!values.includes(value)) values.push(value);
  }

  publish(policyName: string, a: AdmissionAttributes): void {
    for (const [key, values] of this.#values) addAuditAnnotation(a, `${policyName}/${key}`, values.join(', '));
  }
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
      const collector = auditAnnotationSink(a) ? new AuditAnnotationCollector() : undefined;
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
          result.decisions.forEach((d, i) => {
            if (d.action !== 'deny') return;
            for (const action of binding.validationActions) {
              if (action === 'Deny') denials.push({ policy, binding, message: d.message, reason: d.reason });
              else if (action === 'Warn') {
                a.warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policy.name}' with binding '${binding.name}': ${d.message}`);
              } else if (action === 'Audit') {
                // A later failure does not replace the first one: annotations keep their first value.
                if (auditAnnotationSink(a)) addAuditAnnotation(a, VALIDATION_FAILURE_ANNOTATION, validationFailureValue(binding, i, d.message));
              }
            }
          });
          if (collector) for (const an of result.auditAnnotations) collector.add(an.key, truncateBytes(an.value, MAX_AUDIT_ANNOTATION_VALUE_BYTES));
          for (const err of result.auditAnnotationErrors) denials.push({ policy, binding, message: err });
        }
      }
      collector?.publish(policy.name, a);
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
