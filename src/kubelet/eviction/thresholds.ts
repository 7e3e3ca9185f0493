// Eviction thresholds (pkg/kubelet/eviction/helpers.go in part): parsing --eviction-hard/-soft,
// their grace periods and minimum reclaims, upstream's Linux defaults, the quantity a threshold
// stands for on a given capacity, which thresholds the observations meet and for how long. Pure.
import { newQuantity, parseQuantity, quantityString, quantityValue, sign, type Quantity } from '../../api/quantity.ts';
import { Millisecond, parseDuration } from '../../api/duration.ts';
import { Signal, type Observations, type Threshold, type ThresholdValue } from './types.ts';

/** Upstream's DefaultEvictionHard on Linux. */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

const SIGNALS = new Set<string>(Object.values(Signal));

/** The resource a signal is about (signalToResource). */
export function signalResource(signal: Signal): 'memory' | 'ephemeral-storage' | 'inodes' | 'pids' {
  switch (signal) {
    case Signal.MemoryAvailable: return 'memory';
    case Signal.NodeFsAvailable:
    case Signal.ImageFsAvailable: return 'ephemeral-storage';
    case Signal.NodeFsInodesFree:
    case Signal.ImageFsInodesFree: return 'inodes';
    case Signal.PIDAvailable: return 'pids';
  }
}

/** The node condition a met signal raises (signalToNodeCondition). */
export function signalCondition(signal: Signal): 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' {
  switch (signal) {
    case Signal.MemoryAvailable: return 'MemoryPressure';
    case Signal.PIDAvailable: return 'PIDPressure';
    default: return 'DiskPressure';
  }
}

function unsupportedSignal(signal: string): Error {
  return new Error(`unsupported eviction signal ${signal}`);
}

/** One statement's value (parseThresholdStatement); undefined for "0%" and "100%", which turn the signal off. */
function parseThresholdValue(signal: string, raw: string): ThresholdValue | undefined {
  const val = String(raw).trim();
  if (val.endsWith('%')) {
    if (val === '0%' || val === '100%') return undefined;
    const pct = parsePercentage(val);
    if (pct < 0) throw new Error(`eviction percentage threshold ${signal} must be >= 0%: ${val}`);
    if (pct > 1) throw new Error(`eviction percentage threshold ${signal} must be <= 100%: ${val}`);
    return { percentage: pct };
  }
  const q = quantityOf(signal, val);
  if (sign(q) <= 0) throw new Error(`eviction threshold ${signal} must be positive: ${quantityString(q)}`);
  return { quantity: q };
}

function quantityOf(signal: string, val: string): Quantity {
  try {
    return parseQuantity(val);
  } catch (err) {
    throw new Error(`eviction threshold ${signal}: ${(err as Error).message}`);
  }
}

/** "12.5%" as 0.125 (parsePercentage: a float32, as upstream keeps it). */
function parsePercentage(val: string): number {
  const text = val.replace(/%+$/, '');
  const n = Number(text);
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) || !Number.isFinite(n)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  }
  return Math.fround(n) / 100;
}

/** Parses `{"memory.available": "100Mi", "nodefs.available": "10%"}`; "0%" and "100%" turn a signal off. */
export function parseThresholds(statements: Readonly<Record<string, string>>): Threshold[] {
  const out: Threshold[] = [];
  for (const [signal, raw] of Object.entries(statements)) {
    if (!SIGNALS.has(signal)) throw unsupportedSignal(signal);
    const v = parseThresholdValue(signal, raw);
    if (v) out.push({ signal: signal as Signal, ...v });
  }
  return out;
}

/** The kubelet's eviction flags, as maps (the kubelet's KubeletConfiguration fields). */
export interface ThresholdConfig {
  /** --eviction-hard (default DEFAULT_EVICTION_HARD; given, it replaces the defaults whole, as in v1.32). */
  readonly hard?: Readonly<Record<string, string>>;
  /** --eviction-soft. */
  readonly soft?: Readonly<Record<string, string>>;
  /** --eviction-soft-grace-period: Go durations ("1m30s"). */
  readonly softGracePeriod?: Readonly<Record<string, string>>;
  /** --eviction-minimum-reclaim. */
  readonly minimumReclaim?: Readonly<Record<string, string>>;
}

/** Hard and soft thresholds with their grace periods and minimum reclaims (ParseThresholdConfig); throws upstream's messages. */
export function parseThresholdConfig(c: ThresholdConfig): Threshold[] {
  const hard = parseThresholds(c.hard ?? DEFAULT_EVICTION_HARD);
  const soft = parseThresholds(c.soft ?? {});
  const grace = parseGracePeriods(c.softGracePeriod ?? {});
  const reclaim = parseMinimumReclaims(c.minimumReclaim ?? {});
  const out: Threshold[] = [...hard];
  for (const t of soft) {
    const ms = grace.get(t.signal);
    if (ms === undefined) throw new Error(`grace period must be specified for the soft eviction threshold ${t.signal}`);
    out.push({ ...t, gracePeriodMs: ms });
  }
  return out.map((t) => {
    const r = reclaim.get(t.signal);
    return r ? { ...t, minReclaim: r } : t;
  });
}

/** --eviction-soft-grace-period values in ms (parseGracePeriods). */
export function parseGracePeriods(statements: Readonly<Record<string, string>>): Map<Signal, number> {
  const out = new Map<Signal, number>();
  for (const [signal, val] of Object.entries(statements)) {
    if (!SIGNALS.has(signal)) throw unsupportedSignal(signal);
    const nanos = parseDuration(val);
    if (nanos < 0n) throw new Error(`invalid eviction grace period specified: ${val}, must be a positive value`);
    out.set(signal as Signal, Number(nanos / Millisecond));
  }
  return out;
}

/** --eviction-minimum-reclaim values (parseMinimumReclaims). */
export function parseMinimumReclaims(statements: Readonly<Record<string, string>>): Map<Signal, ThresholdValue> {
  const out = new Map<Signal, ThresholdValue>();
  for (const [signal, val] of Object.entries(statements)) {
    if (!SIGNALS.has(signal)) throw unsupportedSignal(signal);
    if (val.endsWith('%')) {
      const pct = parsePercentage(val);
      if (pct <= 0) throw new Error(`eviction percentage minimum reclaim ${signal} must be positive: ${val}`);
      out.set(signal as Signal, { percentage: pct });
      continue;
    }
    const q = quantityOf(signal, val);
    if (sign(q) < 0) throw new Error(`negative eviction minimum reclaim specified for ${signal}`);
    out.set(signal as Signal, { quantity: q });
  }
  return out;
}

/** Whether a threshold acts at once (isHardEvictionThreshold). */
export function isHardThreshold(t: Threshold): boolean {
  return (t.gracePeriodMs ?? 0) === 0;
}

/** The threshold as a quantity on this capacity (GetThresholdQuantity). */
export function thresholdQuantity(t: ThresholdValue, capacity: number): Quantity {
  if (t.quantity) return t.quantity;
  // upstream multiplies by a float32 fraction and truncates, always in BinarySI
  return newQuantity(Math.trunc(capacity * Math.fround(t.percentage ?? 0)), 'BinarySI');
}

/** The threshold's value in the signal's unit on this capacity. */
export function thresholdValue(t: ThresholdValue, capacity: number): number {
  return Number(quantityValue(thresholdQuantity(t, capacity)));
}

/**
 * The thresholds whose signal's availability is below them (thresholdsMet); with enforceMinReclaim,
 * below them plus their minimum reclaim (a met threshold is resolved only past that).
 */
export function thresholdsMet(thresholds: readonly Threshold[], observations: Observations, enforceMinReclaim = false): Threshold[] {
  return thresholds.filter((t) => {
    const o = observations.get(t.signal);
    if (o === undefined) return false;
    let value = thresholdValue(t, o.capacity);
    if (enforceMinReclaim && t.minReclaim) value += thresholdValue(t.minReclaim, o.capacity);
    return value > o.available;
  });
}

/** Both lists, each threshold once (mergeThresholds). */
export function mergeThresholds(a: readonly Threshold[], b: readonly Threshold[]): Threshold[] {
  return [...a, ...b.filter((t) => !a.includes(t))];
}

/** When each met threshold was first seen met: kept from the last pass, now for new ones (thresholdsFirstObservedAt). */
export function thresholdsFirstObservedAt(met: readonly Threshold[], last: ReadonlyMap<Threshold, number>, now: number): Map<Threshold, number> {
  return new Map(met.map((t) => [t, last.get(t) ?? now]));
}

/** The thresholds met for at least their grace period: the ones that drive eviction (thresholdsMetGracePeriod). */
export function thresholdsMetGracePeriod(observedAt: ReadonlyMap<Threshold, number>, now: number): Threshold[] {
  return [...observedAt].filter(([t, at]) => now - at >= (t.gracePeriodMs ?? 0)).map(([t]) => t);
}

/** A byte count (or a count) as the quantity text upstream prints (NewQuantity(..., BinarySI).String()). */
export function bytesText(n: number, format: 'BinarySI' | 'DecimalSI' = 'BinarySI'): string {
  return quantityString(newQuantity(Math.trunc(n), format));
}
