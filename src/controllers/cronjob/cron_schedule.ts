// CronJob schedules as the controller evaluates them (robfig/cron v3 ParseStandard semantics):
// 5-field cron, @yearly/@monthly/@weekly/@daily/@midnight/@hourly, "@every <duration>", and an
// IANA time zone from spec.timeZone or a legacy TZ=/CRON_TZ= prefix. Calendar maths is croner's.
import { Cron } from 'croner';
import { DurationParseError, parseDuration, Second } from '../../api/duration.ts';

/** A parsed schedule. */
export interface Schedule {
  /** The first activation strictly after `afterMs`, in ms since the epoch (+Infinity when none). */
  next(afterMs: number): number;
}

/** A schedule that does not parse; the message is the parser's. */
export class ScheduleParseError extends Error {}

const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Whether Intl (and so Go's tzdata, for practical purposes) knows the zone. */
export function isValidTimeZone(zone: string): boolean {
  if (zone === '' || zone === 'UTC' || zone === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses `spec` (as ParseStandard does) in `timeZone` (undefined: UTC, the controller's local zone here). */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  let s = spec.trim();
  let zone = timeZone;
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ');
    if (i < 0) throw new ScheduleParseError('invalid schedule format');
    zone = s.slice(s.indexOf('=') + 1, i);
    s = s.slice(i).trim();
  }
  if (zone === 'Local' || zone === '') zone = undefined;
  if (zone !== undefined && !isValidTimeZone(zone)) throw new ScheduleParseError(`provided bad location ${zone}: unknown time zone ${zone}`);
  if (s.startsWith('@every ')) {
    let nanos: bigint;
    try {
      nanos = parseDuration(s.slice('@every '.length).trim());
    } catch (e) {
      if (e instanceof DurationParseError) throw new ScheduleParseError(`failed to parse duration ${s}: ${e.message}`);
      throw e;
    }
    // robfig rounds the delay down to whole seconds, with a one-second floor.
    const delayMs = Number(nanos < Second ? Second : (nanos / Second) * Second) / 1e6;
    return { next: (after) => Math.floor(after / 1000) * 1000 + delayMs };
  }
  if (s.startsWith('@')) {
    const expanded = DESCRIPTORS[s];
    if (expanded === undefined) throw new ScheduleParseError(`unrecognized descriptor: ${s}`);
    s = expanded;
  }
  const fields = s.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new ScheduleParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { timezone: zone ?? 'UTC', mode: '5-part', sloppyRanges: true, domAndDow: false });
  } catch (e) {
    throw new ScheduleParseError(e instanceof Error ? e.message : String(e));
  }
  return {
    next(after) {
      const d = cron.nextRun(new Date(after));
      return d ? d.getTime() : Infinity;
    },
  };
}
