// The `--scheduler-config` loader: a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
// from a YAML/JSON file or an already decoded object, defaulted and validated by ../config.ts.

import { readFile } from 'node:fs/promises';
import { FieldErrorsError } from '../../api/field_errors.ts';
import { defaultSchedulerConfig, parseSchedulerConfig, schedulerConfigFromObject, type SchedulerConfig } from '../config.ts';

/** Where a configuration comes from: a file path, a decoded KubeSchedulerConfiguration, or nothing (defaults). */
export type SchedulerConfigSource = string | Readonly<Record<string, unknown>> | undefined;

/** Reads, defaults and validates a configuration; errors name the file and the offending fields. */
export async function loadSchedulerConfig(source: SchedulerConfigSource): Promise<SchedulerConfig> {
  if (source === undefined) return defaultSchedulerConfig();
  if (typeof source !== 'string') return schedulerConfigFromObject(source);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new Error(`failed to read scheduler config file ${JSON.stringify(source)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseSchedulerConfig(text);
  } catch (err) {
    const prefix = `invalid scheduler config file ${JSON.stringify(source)}: `;
    if (err instanceof FieldErrorsError) throw new FieldErrorsError(err.errors, prefix + err.message);
    throw new Error(prefix + (err instanceof Error ? err.message : String(err)));
  }
}
