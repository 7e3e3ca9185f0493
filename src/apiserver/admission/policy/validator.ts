// Evaluates one policy for one binding and param (upstream's validating/validator): match
// conditions, then validations, their messageExpressions and the audit annotation values, each
// list one pass with a runtime cost budget split as upstream splits it; failurePolicy decides on errors.
import { OutOfBudgetError, RUNTIME_CEL_COST_BUDGET, RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS } from '../../../api/cel/cost.ts';
import { CelQuantity, CelURL } from '../../../api/cel/library.ts';
import { ExpressionFilter, type Evaluation } from '../cel/filter.ts';
import { matchConditions } from '../cel/matcher.ts';
import { ComposedVariables } from './composition.ts';
import type { CompiledPolicy } from './source.ts';

/** What one validation decided. */
export interface PolicyDecision {
  readonly action: 'admit' | 'deny';
  readonly evaluation: 'admit' | 'deny' | 'error';
  readonly message: string;
  readonly reason?: string;
}

/** Audit annotation values to publish, and annotation errors that deny (failurePolicy Fail). */
export interface ValidateResult {
  readonly decisions: readonly PolicyDecision[];
  readonly auditAnnotations: readonly { readonly key: string; readonly value: string }[];
  readonly auditAnnotationErrors: readonly string[];
}

/** Budgets of one evaluation (upstream's runtimeCELCostBudget parameter; tests pass small ones). */
export interface ValidateOptions {
  /** Shared by validations and then messageExpressions; auditAnnotations get a fresh one as large. */
  readonly budget?: number;
  readonly matchConditionsBudget?: number;
}

const MAX_MESSAGE_BYTES = 5 * 1024;

function errorAction(failurePolicy: string): 'admit' | 'deny' {
  return failurePolicy === 'Ignore' ? 'admit' : 'deny';
}

/** The result upstream returns when a pass fails as a whole: one error decision and nothing else. */
function failed(failurePolicy: string, message: string): ValidateResult {
  return { decisions: [{ action: errorAction(failurePolicy), evaluation: 'error', message }], auditAnnotations: [], auditAnnotationErrors: [] };
}

/** The message of a failed validation: messageExpression's string, else message, else the expression. */
function denialMessage(v: CompiledPolicy['validations'][number], m: Evaluation | undefined): string {
  let message = '';
  // A messageExpression that errors or is not a string falls back, as upstream (which only logs it).
  if (m && m.error === undefined && typeof m.value === 'string') {
    message = m.value.trim();
    if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES || message.includes('\n')) message = '';
  }
  if (message === '' && v.message !== '') message = v.message.trim();
  if (message === '') message = `failed expression: ${v.expression.expression.trim()}`;
  return message;
}

/** The name cel-go gives a value's type (ref.Type), for the unsupported-return-type message. */
function celTypeName(v: unknown): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Date) return 'google.protobuf.Timestamp';
  if (v instanceof CelQuantity) return 'kubernetes.Quantity';
  if (v instanceof CelURL) return 'kubernetes.URL';
  // cel-js's own classes for uint and duration are not exported; their names are stable.
  const name = typeof v === 'object' && v !== null ? v.constructor.name : '';
  if (name === 'UnsignedInt') return 'uint';
  if (name === 'Duration') return 'google.protobuf.Duration';
  return 'map';
}

/** Validate: the decisions of one policy for one request, binding and param. */
export async function validate(policy: CompiledPolicy, activation: Record<string, unknown>, opts: ValidateOptions = {}): Promise<ValidateResult> {
  const f = policy.failurePolicy;
  const budget = opts.budget ?? RUNTIME_CEL_COST_BUDGET;
  const none: ValidateResult = { decisions: [], auditAnnotations: [], auditAnnotationErrors: [] };
  if (policy.matchConditions.length > 0) {
    const m = await matchConditions(policy.matchConditions, activation, f, opts.matchConditionsBudget ?? RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS);
    if (m.error !== undefined) return failed(f, m.error);
    if (!m.matches) return none;
  }
  const variables = policy.variables.length > 0 ? await ComposedVariables.evaluate(policy.variables, activation) : undefined;

  const validations = new ExpressionFilter(activation, budget, variables?.scope());
  const results: Evaluation[] = [];
  try {
    for (const v of policy.validations) results.push(await validations.evaluate(v.expression));
  } catch (e) {
    if (e instanceof OutOfBudgetError) return failed(f, e.message);
    throw e;
  }

  // Every messageExpression runs, failed validation or not, on what the validations left.
  const messages = new ExpressionFilter(activation, validations.remaining, variables?.scope());
  const messageResults: (Evaluation | undefined)[] = [];
  let messagesFailure: string | undefined;
  try {
    for (const v of policy.validations) messageResults.push(v.messageExpression ? await messages.evaluate(v.messageExpression) : undefined);
  } catch (e) {
    if (!(e instanceof OutOfBudgetError)) throw e;
    messagesFailure = `failed messageExpression: ${e.message}`;
  }
  const decisions = policy.validations.map((v, i): PolicyDecision => {
    const r = results[i]!;
    if (r.error !== undefined) return { action: errorAction(f), evaluation: 'error', message: r.error };
    // Upstream turns every validation without an error of its own into this one, passed or not.
    if (messagesFailure !== undefined) return { action: errorAction(f), evaluation: 'error', message: messagesFailure };
    if (r.value === true) return { action: 'admit', evaluation: 'admit', message: '' };
    return { action: 'deny', evaluation: 'deny', message: denialMessage(v, messageResults[i]), reason: v.reason ?? 'Invalid' };
  });

  const annotations = new ExpressionFilter(activation, budget, variables?.scope());
  const auditAnnotations: { key: string; value: string }[] = [];
  const auditAnnotationErrors: string[] = [];
  try {
    for (const a of policy.auditAnnotations) {
      const r = await annotations.evaluate(a.compiled);
      if (r.error !== undefined) {
        if (f !== 'Ignore') auditAnnotationErrors.push(r.error);
      } else if (typeof r.value === 'string') {
        const value = r.value.trim();
        if (value !== '') auditAnnotations.push({ key: a.key, value });
      } else if (r.value !== null) {
        auditAnnotationErrors.push(`valueExpression '${a.compiled.expression}' resulted in unsupported return type: ${celTypeName(r.value)}. Return type must be either string or null.`);
      }
    }
  } catch (e) {
    // Upstream drops the validations' decisions too and returns this error alone.
    if (e instanceof OutOfBudgetError) return failed(f, e.message);
    throw e;
  }
  return { decisions, auditAnnotations, auditAnnotationErrors };
}
