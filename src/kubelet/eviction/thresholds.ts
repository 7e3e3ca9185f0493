// Eviction thresholds (pkg/kubelet/eviction/helpers.go in part): parsing --eviction-hard statements,
// upstream's Linux defaults, the quantity a threshold stands for on a given capacity, and which
// thresholds the current observations meet. Pure.
import { newQuantity, parseQuantity, quantityString, quantityValue, sign, type Quantity } from '../../api/quantity.ts';
import { Signal, type Observations, type Threshold } from './types.ts';

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

/** Parses `{"memory.available": "100Mi", "nodefs.available": "10%"}`; "0%" and "100%" turn a signal off. */
export function parseThresholds(statements: Readonly<Record<string, string>>): Threshold[] {
  const out: Threshold[] = [];
  for (const [signal, raw] of Object.entries(statements)) {
    if (!SIGNALS.has(signal)) throw new Error(`unsupported eviction signal ${signal}`);
    const s = signal as Signal;
    const val = String(raw).trim();
    if (val.endsWith('%')) {
      if (val === '0%' || val === '100%') continue;
      const pct = Number(val.slice(0, -1));
      if (!Number.isFinite(pct) || val.length === 1) throw new Error(`eviction threshold ${signal}: invalid percentage ${JSON.stringify(val)}`);
      if (pct < 0) throw new Error(`eviction percentage threshold ${signal} must be >= 0%: ${val}`);
      if (pct > 100) throw new Error(`eviction percentage threshold ${signal} must be <= 100%: ${val}`);
      out.push({ signal: s, percentage: pct / 100 });
      continue;
    }
    let q: Quantity;
    try {
      q = parseQuantity(val);
    } catch (err) {
      throw new Error(`eviction threshold ${signal}: ${(err as Error).message}`);
    }
    if (sign(q) <= 0) throw new Error(`eviction threshold ${signal} must be positive: ${quantityString(q)}`);
    out.push({ signal: s, quantity: q });
  }
  return out;
}

/** The threshold as a quantity on this capacity (GetThresholdQuantity). */
export function thresholdQuantity(t: Threshold, capacity: number): Quantity {
  if (t.quantity) return t.quantity;
  // upstream multiplies by a float32 fraction and truncates, always in BinarySI
  return newQuantity(Math.trunc(capacity * Math.fround(t.percentage ?? 0)), 'BinarySI');
}

/** The threshold's value in the signal's unit on this capacity. */
export function thresholdValue(t: Threshold, capacity: number): number {
  return Number(quantityValue(thresholdQuantity(t, capacity)));
}

/** The thresholds whose signal's availability is below them (thresholdsMet without min-reclaim). */
export function thresholdsMet(thresholds: readonly Threshold[], observations: Observations): Threshold[] {
  return thresholds.filter((t) => {
    const o = observations.get(t.signal);
    return o !== undefined && thresholdValue(t, o.capacity) > o.available;
  });
}

/** A byte count (or a count) as the quantity text upstream prints (NewQuantity(..., BinarySI).String()). */
export function bytesText(n: number, format: 'BinarySI' | 'DecimalSI' = 'BinarySI'): string {
  return quantityString(newQuantity(Math.trunc(n), format));
}
