// A policy's matchConditions (upstream's matchconditions.Matcher): all evaluated in one pass with
// their own cost budget, separate from the validations'; any false skips the policy, errors with
// the rest true follow failurePolicy, and a spent budget fails (Fail) or skips (Ignore) it.
import { OutOfBudgetError, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS } from '../../../api/cel/cost.ts';
import type { Evaluation, MatchResult, NamedCondition } from '../cel/evaluate.ts';
import { ExpressionFilter } from './filter.ts';

/** Match: whether the conditions select the request; `error` means fail it (failurePolicy Fail). */
export async function matchConditions(conditions: readonly NamedCondition[], activation: Readonly<Record<string, unknown>>,
  failurePolicy: string, budget = RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS): Promise<MatchResult> {
  const filter = new ExpressionFilter(activation, budget);
  const results: Evaluation[] = [];
  try {
    for (const c of conditions) results.push(await filter.evaluate(c.compiled));
  } catch (e) {
    if (!(e instanceof OutOfBudgetError)) throw e;
    return failurePolicy === 'Ignore' ? { matches: false } : { matches: false, error: e.message };
  }
  const errors: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.error !== undefined) errors.push(r.error);
    else if (r.value === false) return { matches: false, failedConditionName: conditions[i]!.name };
  }
  if (errors.length === 0) return { matches: true };
  if (failurePolicy === 'Ignore') return { matches: false };
  // utilerrors.NewAggregate: one error reads as itself, several as "[a, b]".
  return { matches: false, error: errors.length === 1 ? errors[0] : `[${errors.join(', ')}]` };
}
