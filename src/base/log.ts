// Minimal leveled logger in klog's spirit: one line per message, component-prefixed, to stderr.
// TKUBE_LOG=debug|info|warn|error sets the level (default info; tests default to warn).

/** Log levels in increasing severity. */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LogLevel;

function envLevel(): LogLevel {
  const v = process.env['TKUBE_LOG'];
  if (v === 'debug' || v === 'info' || v === 'warn' || v === 'error') return v;
  return process.env['TKUBE_TEST'] ? 'warn' : 'info';
}

let threshold: number = LogLevel[envLevel()];

/** Sets the process-wide level. */
export function setLogLevel(level: LogLevel): void {
  threshold = LogLevel[level];
}

/** A component's logger. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Returns a logger whose lines start with `component`. */
export function logger(component: string): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LogLevel[level] < threshold) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line += ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : v instanceof Error ? JSON.stringify(v.message) : JSON.stringify(v)}`;
      }
    }
    process.stderr.write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
