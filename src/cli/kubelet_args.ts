// `--kubelet-arg key=value` (k3s's flag, repeatable) on `tkube server` and `tkube agent`: upstream
// kubelet flags, in upstream's value syntax, turned into KubeletOptions. A flag we do not support is
// a startup error naming it, never silently dropped; bad values get upstream's messages.
import { Millisecond, parseDuration } from '../api/duration.ts';
import type { KubeletOptions } from '../kubelet/kubelet.ts';
import { parseThresholdConfig } from '../kubelet/eviction/thresholds.ts';
import { DEFAULT_IMAGE_GC_POLICY, type ImageGCPolicy } from '../kubelet/image_gc.ts';

/** The kubelet options --kubelet-arg may set. */
export type KubeletArgOptions = Partial<Omit<KubeletOptions, 'client' | 'runtime' | 'nodeName' | 'rootDir' | 'nodeIP' | 'kubeletPort'>>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Acc = Mutable<KubeletArgOptions> & { imageGCPolicy?: Partial<Mutable<ImageGCPolicy>> };

/** "a<b,c<d" (cliflag's LangleSeparatedMapStringString). */
function langleMap(v: string): Record<string, string> {
  return splitMap(v, '<', 'malformed pair, expect string<string');
}

/** "a=b,c=d" (cliflag's MapStringString). */
function equalsMap(v: string): Record<string, string> {
  return splitMap(v, '=', 'malformed pair, expect string=string');
}

function splitMap(v: string, sep: string, malformed: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of v.split(',')) {
    if (s.trim() === '') continue;
    const i = s.indexOf(sep);
    if (i < 0) throw new Error(malformed);
    out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}

function int32(flag: string, v: string): number {
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  if (n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

function durationMs(flag: string, v: string): number {
  try {
    return Number(parseDuration(v) / Millisecond);
  } catch (err) {
    throw new Error(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: ${(err as Error).message}`);
  }
}

/** Each supported kubelet flag and where its value goes. */
const FLAGS: Readonly<Record<string, (acc: Acc, v: string, flag: string) => void>> = {
  'eviction-hard': (a, v) => { a.evictionHard = langleMap(v); },
  'eviction-soft': (a, v) => { a.evictionSoft = langleMap(v); },
  'eviction-soft-grace-period': (a, v) => { a.evictionSoftGracePeriod = equalsMap(v); },
  'eviction-minimum-reclaim': (a, v) => { a.evictionMinimumReclaim = equalsMap(v); },
  'eviction-max-pod-grace-period': (a, v, f) => { a.evictionMaxPodGracePeriodSeconds = int32(f, v); },
  'eviction-pressure-transition-period': (a, v, f) => { a.evictionPressureTransitionMs = durationMs(f, v); },
  'max-pods': (a, v, f) => { a.maxPods = int32(f, v); },
  'image-gc-high-threshold': (a, v, f) => { (a.imageGCPolicy ??= {}).highThresholdPercent = int32(f, v); },
  'image-gc-low-threshold': (a, v, f) => { (a.imageGCPolicy ??= {}).lowThresholdPercent = int32(f, v); },
  'image-minimum-gc-age': (a, v, f) => { (a.imageGCPolicy ??= {}).minAgeMs = durationMs(f, v); },
  'image-maximum-gc-age': (a, v, f) => { (a.imageGCPolicy ??= {}).maxAgeMs = durationMs(f, v); },
  'sync-frequency': (a, v, f) => { a.resyncMs = durationMs(f, v); },
  'file-check-frequency': (a, v, f) => { a.staticPodRescanMs = durationMs(f, v); },
  'node-status-update-frequency': (a, v, f) => { a.nodeStatusUpdateMs = durationMs(f, v); },
  'resolv-conf': (a, v) => { a.resolvConf = v; },
  'hostname-override': (a, v) => { a.hostname = v; },
};

/** The kubelet flags --kubelet-arg accepts. */
export const SUPPORTED_KUBELET_ARGS: readonly string[] = Object.keys(FLAGS);

/**
 * Parses `key=value` entries (a leading "--" allowed, a bare key meaning "true"; the last of a key
 * wins) and validates the whole as the kubelet does at start. Throws with a message naming the flag.
 */
export function parseKubeletArgs(args: readonly string[]): KubeletArgOptions {
  const acc: Acc = {};
  for (const arg of args) {
    const text = arg.replace(/^--/, '');
    const i = text.indexOf('=');
    const key = i < 0 ? text : text.slice(0, i);
    const value = i < 0 ? 'true' : text.slice(i + 1);
    const apply = Object.hasOwn(FLAGS, key) ? FLAGS[key] : undefined;
    if (!apply) throw new Error(`--kubelet-arg ${arg}: unknown or unsupported kubelet flag --${key} (supported: ${SUPPORTED_KUBELET_ARGS.join(', ')})`);
    try {
      apply(acc, value, key);
    } catch (err) {
      throw new Error(`--kubelet-arg ${arg}: ${(err as Error).message}`);
    }
  }
  const { imageGCPolicy, ...out } = acc;
  if (imageGCPolicy) {
    validateImageGC({ ...DEFAULT_IMAGE_GC_POLICY, ...imageGCPolicy });
    out.imageGC = imageGCPolicy;
  }
  if (out.maxPods !== undefined && out.maxPods < 0) throw new Error(`invalid configuration: maxPods (--max-pods) ${out.maxPods} must not be a negative number`);
  try {
    parseThresholdConfig({
      ...(out.evictionHard ? { hard: out.evictionHard } : {}),
      ...(out.evictionSoft ? { soft: out.evictionSoft } : {}),
      ...(out.evictionSoftGracePeriod ? { softGracePeriod: out.evictionSoftGracePeriod } : {}),
      ...(out.evictionMinimumReclaim ? { minimumReclaim: out.evictionMinimumReclaim } : {}),
    });
  } catch (err) {
    throw new Error(`--kubelet-arg: ${(err as Error).message}`);
  }
  return out;
}

/** The kubelet's configuration checks of the image GC thresholds (ValidateKubeletConfiguration). */
function validateImageGC(p: ImageGCPolicy): void {
  const high = p.highThresholdPercent;
  const low = p.lowThresholdPercent;
  if (high < 0 || high > 100) throw new Error(`invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) ${high} must be between 0 and 100, inclusive`);
  if (low < 0 || low > 100) throw new Error(`invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be between 0 and 100, inclusive`);
  if (low >= high) throw new Error(`invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) ${high}`);
}
