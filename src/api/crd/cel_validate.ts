// Runs x-kubernetes-validations rules over a custom resource (apiextensions' schema/cel Validator):
// every rule on every node with a value, transition rules only where an old value correlates,
// optionalOldSelf, messages, messageExpression, reason and fieldPath, the per-call cost limit and
// the per-resource budget, and ratcheting of unchanged values on update, with upstream's errors.

import { Optional } from '@marcbachmann/cel-js';
import { COST_LIMIT_EXCEEDED, CostMeter, OUT_OF_BUDGET, PER_CALL_LIMIT, RUNTIME_CEL_COST_BUDGET } from '../cel/cost.ts';
import { evaluationErrorText } from '../cel/environment.ts';
import { toCel } from '../cel/values.ts';
import { utf8Length } from '../go_strings.ts';
import {
  duplicate, forbidden, internalError, invalid, newPath, Path, required, type FieldError,
} from '../field_errors.ts';
import type { ValidationRule } from '../types/apiextensions_v1.ts';
import { celFields, compileRule, durationConstructor, escapeCelName, type CompiledRule } from './cel_compile.ts';
import { correlateByMapKeys } from './list_type.ts';
import { asObject, type Structural } from './structural.ts';
import { deepEqualJson } from './values.ts';

/** Upstream's limit on an evaluated messageExpression (celconfig.MaxEvaluatedMessageExpressionSizeBytes). */
const MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024;

// cel-js has no exported Duration constructor; take it from a value it produces.
let durationCtor: (new (seconds: bigint, nanos: number) => unknown) | undefined;

function parseDuration(s: string): unknown {
  const m = /^([-+]?)((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return s;
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let nanos = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) nanos += Number(part[1]) * units[part[2]!]!;
  if (m[1] === '-') nanos = -nanos;
  if (!durationCtor) return s;
  const secs = BigInt(Math.trunc(nanos / 1e9));
  return new durationCtor(secs, Math.round(nanos - Number(secs) * 1e9));
}

/** Converts a decoded value to the CEL value a rule on schema `s` sees (upstream's UnstructuredToVal). */
export function toCelValue(v: unknown, s: Structural | undefined, isRoot = false): unknown {
  if (v === null || v === undefined) return null;
  if (!s) return toCel(v);
  if (typeof v === 'number') {
    if (s.type === 'number') return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === 'string') {
    if (s.type !== 'string') return v;
    switch (s.format) {
      case 'date-time': case 'datetime': case 'date': {
        const d = new Date(v);
        return Number.isNaN(d.getTime()) ? v : d;
      }
      case 'duration': return parseDuration(v);
      case 'byte':
        try {
          return Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
        } catch {
          return v;
        }
      default: return v;
    }
  }
  if (Array.isArray(v)) return v.map((x) => toCelValue(x, s.items));
  const m = asObject(v);
  if (!m) return toCel(v);
  const out: Record<string, unknown> = {};
  const closed = celFields(s, isRoot);
  for (const [k, x] of Object.entries(m)) {
    if (x === undefined) continue;
    const prop = s.properties?.get(k);
    if (prop) {
      const n = escapeCelName(k);
      if (n !== undefined) out[n] = toCelValue(x, prop);
    } else if ((isRoot || s.embeddedResource) && k === 'metadata') {
      const meta = asObject(x) ?? {};
      const md: Record<string, unknown> = {};
      if (typeof meta['name'] === 'string') md['name'] = meta['name'];
      if (typeof meta['generateName'] === 'string') md['generateName'] = meta['generateName'];
      out[k] = md;
    } else if (s.additionalProperties !== undefined) {
      out[k] = toCelValue(x, s.additionalProperties === true ? undefined : s.additionalProperties);
    } else if (!closed || closed.has(k)) {
      out[k] = toCel(x);
    }
  }
  return out;
}

interface Ratchet {
  /** Ratcheting is on (an update) and the nearest correlated value equals its old value. */
  readonly unchanged: boolean;
}

/** Validates x-kubernetes-validations of a custom resource; upstream's celValidator.Validate. */
export class CelValidator {
  private remaining = RUNTIME_CEL_COST_BUDGET;
  private stopped = false;
  private readonly errs: FieldError[] = [];

  private readonly ratcheting: boolean;

  /** `ratcheting: false` keeps errors of unchanged values (upstream's status updates pass no correlation). */
  constructor(budget = RUNTIME_CEL_COST_BUDGET, ratcheting = true) {
    this.remaining = budget;
    this.ratcheting = ratcheting;
  }

  /** Runs all rules under `s` over obj (and oldObj on update). */
  run(s: Structural, obj: unknown, oldObj: unknown): FieldError[] {
    return this.runAt(s, null, obj, oldObj, true);
  }

  /** The same below `path` (upstream's fldPath), for a schema node that may not be a resource root. */
  runAt(s: Structural, path: Path | null, obj: unknown, oldObj: unknown, isRoot: boolean): FieldError[] {
    durationCtor ??= durationConstructor() as typeof durationCtor;
    const ratchet: Ratchet = { unchanged: oldObj !== undefined && deepEqualJson(obj, oldObj) };
    this.validate(s, path, obj, oldObj, ratchet, isRoot);
    return this.errs;
  }

  private validate(s: Structural, path: Path | null, obj: unknown, oldObj: unknown, ratchet: Ratchet, isRoot: boolean): void {
    if (this.stopped || obj === null || obj === undefined) return;
    this.expressions(s, s.validations, path, obj, oldObj, ratchet, isRoot);
    for (const sub of s.allOfValidations) {
      if (this.stopped) return;
      this.expressions(sub, sub.validations, path, obj, oldObj, ratchet, isRoot);
    }
    if (this.stopped) return;
    if (Array.isArray(obj)) {
      if (!s.items) return;
      const oldItems = correlatedItems(s, obj, oldObj);
      obj.forEach((v, i) => {
        const old = oldItems?.[i];
        const r: Ratchet = old === undefined ? ratchet : { unchanged: deepEqualJson(v, old) };
        this.validate(s.items!, path === null ? new Path('', String(i), null) : path.index(i), v, old, r, false);
      });
      return;
    }
    const m = asObject(obj);
    if (!m) return;
    const oldMap = asObject(oldObj);
    const child = (k: string, sub: Structural, p: Path): void => {
      const hasOld = oldMap !== undefined && k in oldMap;
      const old = hasOld ? oldMap[k] : undefined;
      const r: Ratchet = hasOld && !(isRoot && (k === 'apiVersion' || k === 'kind')) ? { unchanged: deepEqualJson(m[k], old) } : ratchet;
      this.validate(sub, p, m[k], old, r, false);
    };
    if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      for (const k of Object.keys(m)) child(k, s.additionalProperties, path === null ? new Path('', k, null) : path.key(k));
    }
    if (s.properties) {
      for (const k of Object.keys(m)) {
        const sub = s.properties.get(k);
        if (sub) child(k, sub, path === null ? newPath(k) : path.child(k));
      }
    }
  }

  private expressions(s: Structural, rules: readonly ValidationRule[], path: Path | null, obj: unknown, oldObj: unknown, ratchet: Ratchet, isRoot: boolean): void {
    if (rules.length === 0) return;
    const type = isRoot ? 'object' : s.type;
    if (this.remaining <= 0) {
      this.errs.push(invalid(path, type, OUT_OF_BUDGET));
      this.stopped = true;
      return;
    }
    const self = toCelValue(obj, s, isRoot);
    const oldSelf = oldObj === undefined || oldObj === null ? undefined : toCelValue(oldObj, s, isRoot);
    for (const rule of rules) {
      const compiled = compileRule(rule, s, isRoot);
      if (compiled.error) {
        this.errs.push(invalid(path, type, `rule compile error: ${compiled.error.detail}`));
        continue;
      }
      if (!compiled.program) continue;
      const optional = rule.optionalOldSelf === true;
      if (compiled.usesOldSelf && oldSelf === undefined && !optional) continue;
      const activation: Record<string, unknown> = { self };
      if (optional) activation['oldSelf'] = oldSelf === undefined ? Optional.none() : Optional.of(oldSelf);
      else if (oldSelf !== undefined) activation['oldSelf'] = oldSelf;
      const meter = new CostMeter(PER_CALL_LIMIT);
      let result: unknown;
      let failure: unknown;
      try {
        result = compiled.program(activation, meter);
      } catch (e) {
        failure = e;
      }
      if (meter.cost > this.remaining) {
        this.errs.push(invalid(path, type, OUT_OF_BUDGET));
        this.stopped = true;
        return;
      }
      this.remaining -= meter.cost;
      if (failure !== undefined) {
        const text = evaluationErrorText(failure);
        const ruleText = ruleErrorString(rule);
        if (text.startsWith('no such overload')) {
          this.errs.push(invalid(path, type, `'${text}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText}`));
        } else if (text.startsWith(COST_LIMIT_EXCEEDED)) {
          this.errs.push(invalid(path, type, `'${text}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleText}`));
          this.stopped = true;
          return;
        } else {
          this.errs.push(invalid(path, type, `${text} evaluating rule: ${ruleText}`));
        }
        continue;
      }
      if (result === true) continue;
      const fieldPath = compiled.normalizedRuleFieldPath === '' ? path : path === null ? newPath(compiled.normalizedRuleFieldPath) : path.child(compiled.normalizedRuleFieldPath);
      const add = (e: FieldError): void => {
        if (this.ratcheting && !compiled.usesOldSelf && ratchet.unchanged) return;
        this.errs.push(e);
      };
      if (compiled.messageExpression) {
        const msg = this.messageExpression(compiled, activation);
        if (msg.stop) {
          add(msg.internal ? internalError(fieldPath, msg.text) : invalid(fieldPath, type, msg.text));
          this.stopped = true;
          return;
        }
        add(fieldErrorForReason(fieldPath, type, msg.ok ? msg.text : ruleMessageOrDefault(rule), rule.reason));
      } else {
        add(fieldErrorForReason(fieldPath, type, ruleMessageOrDefault(rule), rule.reason));
      }
    }
  }

  private messageExpression(c: CompiledRule, activation: Record<string, unknown>): { ok: boolean; text: string; stop?: boolean; internal?: boolean } {
    const meter = new CostMeter(PER_CALL_LIMIT);
    let result: unknown;
    let failure: unknown;
    try {
      result = c.messageExpression!(activation, meter);
    } catch (e) {
      failure = e;
    }
    if (meter.cost > this.remaining) {
      return { ok: false, stop: true, text: 'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run' };
    }
    this.remaining -= meter.cost;
    if (failure !== undefined) {
      const text = evaluationErrorText(failure);
      if (text.startsWith(COST_LIMIT_EXCEEDED)) {
        return { ok: false, stop: true, text: `no further validation rules will be run due to call cost exceeds limit for messageExpression: ${JSON.stringify(c.rule.messageExpression ?? '')}` };
      }
      return { ok: false, text: '' };
    }
    if (typeof result !== 'string') return { ok: false, text: '' };
    const trimmed = result.trim();
    if (utf8Length(trimmed) > MAX_MESSAGE_EXPRESSION_BYTES || /\n/.test(trimmed) || trimmed.length === 0) return { ok: false, text: '' };
    return { ok: true, text: trimmed };
  }
}

function correlatedItems(s: Structural, items: readonly unknown[], old: unknown): (unknown | undefined)[] | undefined {
  if (s.listType !== 'map' || !Array.isArray(old)) return undefined;
  return correlateByMapKeys(s.listMapKeys, items, old).map((c) => c?.value);
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message ? rule.message.trim() : rule.rule.trim();
}

function ruleMessageOrDefault(rule: ValidationRule): string {
  return rule.message ? rule.message.trim() : `failed rule: ${ruleErrorString(rule)}`;
}

function fieldErrorForReason(path: Path | null, value: string, detail: string, reason: string | undefined): FieldError {
  switch (reason) {
    case 'FieldValueForbidden': return forbidden(path, detail);
    case 'FieldValueRequired': return required(path, detail);
    case 'FieldValueDuplicate': return duplicate(path, value);
    default: return invalid(path, value, detail);
  }
}
