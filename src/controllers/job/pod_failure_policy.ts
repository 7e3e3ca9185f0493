// Job podFailurePolicy and successPolicy evaluation (upstream pod_failure_policy.go and
// success_policy.go): which rule a failed pod matches, whether it counts against backoffLimit, and
// the message of a FailJob match; whether succeeded indexes satisfy a success rule.
import type { PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, SuccessPolicy } from '../../api/types/batch_v1.ts';
import type { ContainerStatus, Pod, PodCondition } from '../../api/types/core_v1.ts';
import { parseIndexesFromString, totalOf, type OrderedIntervals } from './indexed_job_utils.ts';

/** What a failed pod means under the policy. */
export interface PolicyMatch {
  /** Set when a FailJob rule matched. */
  readonly failJobMessage: string | undefined;
  /** Whether the failure counts towards backoffLimit. */
  readonly countFailed: boolean;
  /** The matched rule's action, if any. */
  readonly action: string | undefined;
}

const NO_MATCH: PolicyMatch = { failJobMessage: undefined, countFailed: true, action: undefined };

function matchingContainer(statuses: readonly ContainerStatus[] | undefined, req: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  for (const s of statuses ?? []) {
    const t = s.state?.terminated;
    if (!t) continue;
    if (req.containerName !== undefined && req.containerName !== s.name) continue;
    // Exit code 0 never matches: a successful container is not a failure cause.
    if (t.exitCode === 0) continue;
    const inValues = req.values.includes(t.exitCode);
    if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) return s;
  }
  return undefined;
}

function matchingCondition(conditions: readonly PodCondition[] | undefined, patterns: readonly { type: string; status: string }[]): PodCondition | undefined {
  for (const c of conditions ?? []) {
    for (const p of patterns) if (c.type === p.type && c.status === p.status) return c;
  }
  return undefined;
}

function outcome(action: string, failJobMessage: () => string): PolicyMatch | undefined {
  switch (action) {
    case 'Ignore': return { failJobMessage: undefined, countFailed: false, action };
    case 'FailIndex':
    case 'Count': return { failJobMessage: undefined, countFailed: true, action };
    case 'FailJob': return { failJobMessage: failJobMessage(), countFailed: true, action };
    default: return undefined;
  }
}

/** Evaluates the rules in order against a failed pod (matchPodFailurePolicy). */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return NO_MATCH;
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  for (const [index, rule] of policy.rules.entries()) {
    if (rule.onExitCodes) {
      const cs = matchingContainer(pod.status?.containerStatuses, rule.onExitCodes) ?? matchingContainer(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (!cs) continue;
      const r = outcome(rule.action, () =>
        `Container ${cs.name} for pod ${ns}/${name} failed with exit code ${cs.state!.terminated!.exitCode} matching ${rule.action} rule at index ${index}`);
      if (r) return r;
    } else if (rule.onPodConditions) {
      const c = matchingCondition(pod.status?.conditions, rule.onPodConditions.map((p) => ({ type: p.type, status: p.status || 'True' })));
      if (!c) continue;
      const r = outcome(rule.action, () => `Pod ${ns}/${name} has condition ${c.type} matching ${rule.action} rule at index ${index}`);
      if (r) return r;
    }
  }
  return NO_MATCH;
}

function matchSucceededIndexesRule(ruleIndexes: OrderedIntervals, succeeded: OrderedIntervals, succeededCount: number | undefined): boolean {
  let contains = 0;
  let s = 0;
  let r = 0;
  while (r < ruleIndexes.length && s < succeeded.length) {
    const overlap = Math.min(ruleIndexes[r]!.last, succeeded[s]!.last) - Math.max(ruleIndexes[r]!.first, succeeded[s]!.first) + 1;
    if (overlap > 0) contains += overlap;
    if (succeeded[s]!.last < ruleIndexes[r]!.last) s++;
    else r++;
  }
  return succeededCount === undefined ? contains === totalOf(ruleIndexes) : contains >= succeededCount;
}

/** The SuccessCriteriaMet message when a success rule is met (matchSuccessPolicy), else undefined. */
export function matchSuccessPolicy(policy: SuccessPolicy | undefined, completions: number, succeeded: OrderedIntervals): string | undefined {
  if (!policy || succeeded.length === 0) return undefined;
  for (const [index, rule] of policy.rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexesFromString(rule.succeededIndexes, completions);
      if (required.length === 0) continue;
      if (matchSucceededIndexesRule(required, succeeded, rule.succeededCount)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && totalOf(succeeded) >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}
