// How Go prints the values whose protobuf form is numeric but whose JSON form is a string:
// metav1.Time (RFC 3339, seconds), metav1.MicroTime (RFC 3339, 6 fractional digits) and
// metav1.Duration (time.Duration.String()).

/** Seconds of Go's zero time.Time (0001-01-01T00:00:00Z), which metav1 prints as null. */
export const goZeroTimeSeconds = -62135596800n;
const minSeconds = -62167219200n; // 0000-01-01T00:00:00Z
const maxSeconds = 253402300799n; // 9999-12-31T23:59:59Z

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * RFC 3339 in UTC, "2024-01-02T03:04:05Z", or with `micros` (0..999999) "…05.000123Z".
 * Undefined when the year falls outside 0000..9999, which RFC 3339 cannot express.
 */
export function formatRfc3339(seconds: bigint, micros?: number): string | undefined {
  if (seconds < minSeconds || seconds > maxSeconds) return undefined;
  const d = new Date(Number(seconds) * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date}T${time}${micros === undefined ? '' : `.${pad(micros, 6)}`}Z`;
}

/** Fraction digits of `frac` at `precision`, trailing zeros dropped: (500, 3) -> ".5", (0, 3) -> "". */
function fraction(frac: bigint, precision: number): string {
  const digits = frac.toString().padStart(precision, '0').replace(/0+$/, '');
  return digits === '' ? '' : `.${digits}`;
}

/** Go's time.Duration.String() of a nanosecond count: "1h0m0s", "1m30s", "1.5s", "500ms", "0s". */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const sign = nanos < 0n ? '-' : '';
  const u = nanos < 0n ? -nanos : nanos;
  if (u < 1000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${u / 1000n}${fraction(u % 1000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${u / 1_000_000n}${fraction(u % 1_000_000n, 6)}ms`;
  const whole = u / 1_000_000_000n;
  const secs = `${whole % 60n}${fraction(u % 1_000_000_000n, 9)}s`;
  const minutes = whole / 60n;
  if (minutes === 0n) return `${sign}${secs}`;
  const hours = minutes / 60n;
  return `${sign}${hours > 0n ? `${hours}h` : ''}${minutes % 60n}m${secs}`;
}
