// Evaluates compiled admission expressions in order against one activation and one runtime cost
// budget (upstream's plugin/cel filter, ForInput): runtime errors read as upstream's, and once
// the budget is spent the pass stops with cost.ts's OutOfBudgetError.
import { CostBudget, CostMeter } from '../../../api/cel/cost.ts';
import { evaluationErrorText, type CompilationResult } from '../../../api/cel/environment.ts';

/** The outcome of one expression: a value or an error message. */
export type Evaluation = { readonly value: unknown; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

/** A pass's view of a policy's `variables`, and the cost of the ones first read since the last takeCost. */
export interface VariableScope {
  readonly variables: Readonly<Record<string, unknown>>;
  takeCost(): number;
}

/** One pass over a list of expressions (matchConditions, validations, messageExpressions …). */
export class ExpressionFilter {
  readonly #activation: Readonly<Record<string, unknown>>;
  readonly #budget: CostBudget;
  readonly #scope: VariableScope | undefined;

  /** `scope`, when the policy has variables, is this pass's own view of them (policy/composition.ts). */
  constructor(activation: Readonly<Record<string, unknown>>, budget: number, scope?: VariableScope) {
    this.#scope = scope;
    this.#activation = scope ? { ...activation, variables: scope.variables } : activation;
    this.#budget = new CostBudget(budget);
  }

  /** What is left for the next pass (messageExpressions run on what validations left). */
  get remaining(): number {
    return this.#budget.remaining;
  }

  /**
   * Evaluates one expression. As upstream, the variables it read first are charged, then its own
   * cost, both before its error (if any) is looked at; throws OutOfBudgetError when they do not fit.
   */
  async evaluate(c: CompilationResult): Promise<Evaluation> {
    if (c.error) return { error: `compilation error: ${c.error.detail}` };
    if (!c.program) return { error: 'unexpected internal error compiling expression' };
    const meter = new CostMeter();
    let failed = false;
    let result: unknown;
    try {
      result = await c.program(this.#activation, meter);
    } catch (e) {
      failed = true;
      result = e;
    }
    if (this.#scope) this.#budget.spend(this.#scope.takeCost());
    this.#budget.spend(meter.cost);
    if (failed) return { error: `expression '${c.expression}' resulted in error: ${evaluationErrorText(result)}` };
    return { value: result };
  }
}
