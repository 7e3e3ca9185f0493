// Lifecycle stages of simulated objects, as KWOK describes them: a selector on the object, an
// optional delay, and what happens next (a status patch or a delete). The stages themselves are data
// in stages/*.yaml; this file parses them, and picks and renders the stage that applies to an object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../api/duration.ts';
import { compileExpression, present, type Env, type Expr } from './expression.ts';
import { compileTemplate, type Template } from './template.ts';

/** The kinds stages can describe. */
export const StageKind = { Pod: 'Pod', Node: 'Node' } as const;
export type StageKind = (typeof StageKind)[keyof typeof StageKind];

/** One requirement of a selector: an expression and a set-based operator, as label selectors have. */
export interface Requirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
  readonly expr: Expr;
}

/** When a matching stage fires: `duration` (Go duration text) or `seconds` after `since` (default: first seen). */
export interface StageDelay {
  readonly duration?: Expr;
  readonly seconds?: Expr;
  readonly since?: Expr;
}

/** A parsed, compiled stage. */
export interface Stage {
  readonly name: string;
  readonly kind: StageKind;
  readonly selector: readonly Requirement[];
  readonly delay?: StageDelay;
  /** Strategic merge patch of the status subresource. */
  readonly status?: Template;
  /** Delete the object (gracePeriodSeconds 0). */
  readonly delete: boolean;
  /** File the stage came from, for messages. */
  readonly source: string;
}

/** What a stage does to one object. */
export interface StageAction {
  readonly stage: string;
  readonly status?: Record<string, unknown>;
  readonly delete?: true;
}

/** A stage picked for an object and the time (ms) at which it is due. */
export interface Pick {
  readonly stage: Stage;
  readonly dueMs: number;
}

/** A stage document that does not follow the format; the message names the file and field. */
export class StageError extends Error {
  readonly code = 'InvalidStage';
  constructor(source: string, field: string, what: string) {
    super(`${source}: ${field}: ${what}`);
    this.name = 'StageError';
  }
}

const API_VERSION = 'sim.tkube.io/v1alpha1';
const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function expr(source: string, field: string, v: unknown): Expr {
  if (typeof v === 'number') return () => v;
  if (typeof v !== 'string' || v === '') throw new StageError(source, field, `must be an expression string, got ${JSON.stringify(v)}`);
  try {
    return compileExpression(v);
  } catch (err) {
    throw new StageError(source, field, (err as Error).message);
  }
}

function parseRequirement(source: string, field: string, r: unknown): Requirement {
  if (!isObject(r)) throw new StageError(source, field, 'must be an object with key and operator');
  const key = r['key'];
  const operator = r['operator'];
  if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
    throw new StageError(source, `${field}.operator`, `must be one of In, NotIn, Exists, DoesNotExist, got ${JSON.stringify(operator)}`);
  }
  const values = r['values'] ?? [];
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new StageError(source, `${field}.values`, 'must be a list of strings');
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) throw new StageError(source, `${field}.values`, `must not be empty for ${operator}`);
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) throw new StageError(source, `${field}.values`, `must be empty for ${operator}`);
  return { key: key as string, operator: operator as Requirement['operator'], values, expr: expr(source, `${field}.key`, key) };
}

/** Parses one stage document (already decoded from YAML). */
export function parseStage(doc: unknown, source: string): Stage {
  if (!isObject(doc)) throw new StageError(source, '(root)', 'must be an object');
  if (doc['apiVersion'] !== API_VERSION) throw new StageError(source, 'apiVersion', `must be ${API_VERSION}, got ${JSON.stringify(doc['apiVersion'])}`);
  if (doc['kind'] !== 'Stage') throw new StageError(source, 'kind', `must be Stage, got ${JSON.stringify(doc['kind'])}`);
  const name = isObject(doc['metadata']) ? doc['metadata']['name'] : undefined;
  if (typeof name !== 'string' || name === '') throw new StageError(source, 'metadata.name', 'is required');
  const spec = doc['spec'];
  if (!isObject(spec)) throw new StageError(source, 'spec', 'is required');
  const kind = isObject(spec['resourceRef']) ? spec['resourceRef']['kind'] : undefined;
  if (kind !== 'Pod' && kind !== 'Node') throw new StageError(source, 'spec.resourceRef.kind', `must be Pod or Node, got ${JSON.stringify(kind)}`);
  const sel = spec['selector'] ?? {};
  if (!isObject(sel)) throw new StageError(source, 'spec.selector', 'must be an object');
  const reqs = sel['matchExpressions'] ?? [];
  if (!Array.isArray(reqs)) throw new StageError(source, 'spec.selector.matchExpressions', 'must be a list');
  const selector = reqs.map((r, i) => parseRequirement(source, `spec.selector.matchExpressions[${i}]`, r));
  let delay: StageDelay | undefined;
  if (spec['delay'] !== undefined) {
    const d = spec['delay'];
    if (!isObject(d)) throw new StageError(source, 'spec.delay', 'must be an object');
    for (const k of Object.keys(d)) if (!['duration', 'seconds', 'since'].includes(k)) throw new StageError(source, `spec.delay.${k}`, 'unknown field (duration, seconds, since)');
    if ((d['duration'] === undefined) === (d['seconds'] === undefined)) throw new StageError(source, 'spec.delay', 'needs exactly one of duration and seconds');
    delay = {
      ...(d['duration'] !== undefined ? { duration: expr(source, 'spec.delay.duration', d['duration']) } : {}),
      ...(d['seconds'] !== undefined ? { seconds: expr(source, 'spec.delay.seconds', d['seconds']) } : {}),
      ...(d['since'] !== undefined ? { since: expr(source, 'spec.delay.since', d['since']) } : {}),
    };
  }
  const next = spec['next'];
  if (!isObject(next)) throw new StageError(source, 'spec.next', 'is required');
  for (const k of Object.keys(next)) if (!['status', 'delete'].includes(k)) throw new StageError(source, `spec.next.${k}`, 'unknown field (status, delete)');
  if (next['delete'] !== undefined && typeof next['delete'] !== 'boolean') throw new StageError(source, 'spec.next.delete', 'must be a boolean');
  if (next['status'] !== undefined && !isObject(next['status'])) throw new StageError(source, 'spec.next.status', 'must be an object');
  if (next['status'] === undefined && next['delete'] !== true) throw new StageError(source, 'spec.next', 'needs status or delete: true');
  if (next['status'] !== undefined && next['delete'] === true) throw new StageError(source, 'spec.next', 'status and delete exclude each other');
  let status: Template | undefined;
  if (next['status'] !== undefined) {
    try {
      status = compileTemplate(next['status'], 'spec.next.status');
    } catch (err) {
      throw new StageError(source, 'spec.next.status', (err as Error).message);
    }
  }
  return { name, kind, selector, ...(delay ? { delay } : {}), ...(status ? { status } : {}), delete: next['delete'] === true, source };
}

/** Parses every document of a YAML text. */
export function parseStages(text: string, source: string): Stage[] {
  const out: Stage[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) throw new StageError(source, '(yaml)', d.errors[0]!.message);
    const v: unknown = d.toJS();
    if (v !== null && v !== undefined) out.push(parseStage(v, source));
  }
  return out;
}

/** Loads every *.yaml of a directory, in file-name order (the order breaks ties between stages due at once). */
export function loadStageDir(dir: string): Stage[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const stages = files.flatMap((f) => parseStages(readFileSync(join(dir, f), 'utf8'), f));
  const seen = new Set<string>();
  for (const s of stages) {
    if (seen.has(s.name)) throw new StageError(s.source, 'metadata.name', `duplicate stage name ${JSON.stringify(s.name)}`);
    seen.add(s.name);
  }
  return stages;
}

let builtIn: Stage[] | undefined;

/** The stages shipped in src/sim/stages (loaded once). */
export function defaultStages(): readonly Stage[] {
  builtIn ??= loadStageDir(fileURLToPath(new URL('./stages/', import.meta.url)));
  return builtIn;
}

function asStrings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : present(v) ? [v] : [];
  return list.filter((x) => x !== undefined && x !== null).map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x)));
}

/** True when some value of `v` (one, or a list) is among `values`, compared as strings. */
function anyIn(v: unknown, values: readonly string[]): boolean {
  // A plain string, the usual case (a phase, a condition status), needs no list.
  if (typeof v === 'string') return values.includes(v);
  return asStrings(v).some((x) => values.includes(x));
}

/** True when every requirement of the stage's selector holds (label-selector semantics; NotIn holds for absent keys). */
export function matchesSelector(stage: Stage, env: Env): boolean {
  for (const r of stage.selector) {
    const v = r.expr(env);
    switch (r.operator) {
      case 'Exists': if (!present(v)) return false; break;
      case 'DoesNotExist': if (present(v)) return false; break;
      case 'In': if (!anyIn(v, r.values)) return false; break;
      case 'NotIn': if (anyIn(v, r.values)) return false; break;
    }
  }
  return true;
}

function delayMs(d: StageDelay, env: Env): number | undefined {
  if (d.duration) {
    const v = d.duration(env);
    if (typeof v === 'number') return v * 1000;
    if (typeof v !== 'string' || v === '') return undefined;
    try {
      return Number(parseDuration(v) / 1_000_000n);
    } catch {
      return undefined;
    }
  }
  const s = d.seconds!(env);
  return typeof s === 'number' && Number.isFinite(s) ? s * 1000 : undefined;
}

/**
 * When the stage is due for this object (ms since the epoch), or undefined when it does not apply:
 * the selector fails, or the delay cannot be worked out (e.g. the annotation asking for it is absent).
 * `firstSeen` gives the time the stage was first found matching, for delays without `since`.
 */
export function dueTime(stage: Stage, env: Env, firstSeen: (stage: Stage) => number): number | undefined {
  if (!matchesSelector(stage, env)) return undefined;
  if (!stage.delay) return Number.NEGATIVE_INFINITY;
  const ms = delayMs(stage.delay, env);
  if (ms === undefined) return undefined;
  let base: number | undefined;
  if (stage.delay.since) {
    const s = stage.delay.since(env);
    base = typeof s === 'string' ? Date.parse(s) : typeof s === 'number' ? s : undefined;
    if (base !== undefined && Number.isNaN(base)) base = undefined;
  }
  return (base ?? firstSeen(stage)) + Math.max(0, ms);
}

/** The stage of `kind` due first for the object (earlier in the list wins ties), or undefined if none applies. */
export function pickStage(stages: readonly Stage[], kind: StageKind, env: Env, firstSeen: (stage: Stage) => number): Pick | undefined {
  let best: Pick | undefined;
  for (const stage of stages) {
    if (stage.kind !== kind) continue;
    const due = dueTime(stage, env, firstSeen);
    if (due !== undefined && (best === undefined || due < best.dueMs)) best = { stage, dueMs: due };
  }
  return best;
}

/** What the stage does to the object. */
export function renderStage(stage: Stage, env: Env): StageAction {
  if (stage.delete) return { stage: stage.name, delete: true };
  const status = stage.status!(env);
  return { stage: stage.name, status: isObject(status) ? status : {} };
}
