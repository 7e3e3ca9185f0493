// A policy's `variables` (upstream's composition): each is evaluated once per policy evaluation,
// and each pass over expressions sees them through a scope that charges a variable's cost (and
// that of the variables it read) the first time the pass reads it, as upstream's lazy map does.
import { CostMeter } from '../../../api/cel/cost.ts';
import { evaluationErrorText } from '../../../api/cel/environment.ts';
import type { VariableScope } from '../cel/filter.ts';
import type { CompiledPolicy } from './source.ts';

/** One variable's outcome: its value or error, its own run's cost, and the variables it read. */
interface VariableOutcome {
  readonly value?: unknown;
  readonly error?: string;
  readonly cost: number;
  readonly reads: readonly string[];
}

/** A variable reads as its value, or fails the expression reading it with its error. */
function defineVariable(target: object, name: string, outcome: VariableOutcome, onRead: () => void): void {
  Object.defineProperty(target, name, {
    enumerable: true,
    get: () => {
      onRead();
      if (outcome.error !== undefined) throw new Error(outcome.error);
      return outcome.value;
    },
  });
}

/** The variables of one policy evaluation, evaluated in order (each may read the earlier ones). */
export class ComposedVariables {
  readonly #outcomes = new Map<string, VariableOutcome>();

  private constructor() {}

  /**
   * Evaluates every variable up front, with its own per-call limit and charging no budget: a
   * scope charges a variable only when an expression of its pass reads it. Upstream evaluates a
   * variable at its first read instead; the values and the charges are the same, and evaluating
   * early lets variables that call the authorizer finish before a synchronous read needs them.
   */
  static async evaluate(variables: CompiledPolicy['variables'], activation: Readonly<Record<string, unknown>>): Promise<ComposedVariables> {
    const composed = new ComposedVariables();
    const visible: Record<string, unknown> = {};
    const withVariables = { ...activation, variables: visible };
    // Variables run one at a time, so a read lands in the list of the one running.
    let reads: string[] = [];
    for (const { name, compiled } of variables) {
      let outcome: VariableOutcome;
      if (compiled.error || !compiled.program) {
        const detail = compiled.error?.detail ?? 'unexpected internal error compiling expression';
        outcome = { error: `composited variable "${name}" fails to compile: ${detail}`, cost: 0, reads: [] };
      } else {
        reads = [];
        const meter = new CostMeter();
        try {
          outcome = { value: await compiled.program(withVariables, meter), cost: meter.cost, reads };
        } catch (e) {
          outcome = { error: `composited variable "${name}" fails to evaluate: ${evaluationErrorText(e)}`, cost: meter.cost, reads };
        }
      }
      composed.#outcomes.set(name, outcome);
      defineVariable(visible, name, outcome, () => {
        if (!reads.includes(name)) reads.push(name);
      });
    }
    return composed;
  }

  /** A fresh view for one pass: nothing read yet, so every variable is charged at its first read. */
  scope(): VariableScope {
    const charged = new Set<string>();
    let pending = 0;
    const charge = (name: string): void => {
      if (charged.has(name)) return;
      charged.add(name);
      const outcome = this.#outcomes.get(name)!;
      for (const read of outcome.reads) charge(read);
      pending += outcome.cost;
    };
    const variables: Record<string, unknown> = {};
    for (const [name, outcome] of this.#outcomes) defineVariable(variables, name, outcome, () => charge(name));
    return {
      variables,
      takeCost: () => {
        const cost = pending;
        pending = 0;
        return cost;
      },
    };
  }
}
