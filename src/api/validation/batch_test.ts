// Tests for Job and CronJob validation (and the cron schedule parser) on defaulted v1 JSON; Jobs
// also get the generated selector, as the apiserver prepares them before validating.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateJobSelector } from '../defaults/prepare_for_create.ts';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { cronScheduleError } from './cron.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function preparedJob(obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('batch', 'v1', 'Job', copy);
  generateJobSelector(copy);
  return copy;
}

const podTemplate = (spec: J = {}): J => ({ spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-e', 'print 1'] }], ...spec } });

function job(spec: J = {}, meta: J = {}): J {
  return { metadata: { name: 'pi', namespace: 'default', uid: '6b1f9c1e-0000-4000-8000-000000000001', ...meta }, spec: { template: podTemplate(), ...spec } };
}

const createJob = (obj: J): string[] => validateObject('batch', 'Job', preparedJob(obj)).map(errorString);

function cronJob(spec: J = {}, name = 'hello'): J {
  return { metadata: { name, namespace: 'default' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate() } }, ...spec } };
}

function createCronJob(obj: J): string[] {
  const copy = structuredClone(obj);
  applyDefaults('batch', 'v1', 'CronJob', copy);
  return validateObject('batch', 'CronJob', copy).map(errorString);
}

describe('Job', () => {
  test('textbook jobs are valid', () => {
    assert.deepEqual(createJob(job({ backoffLimit: 4 })), []);
    assert.deepEqual(createJob(job({ completions: 5, parallelism: 2, completionMode: 'Indexed', template: podTemplate({ restartPolicy: 'OnFailure' }) })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['the default restartPolicy Always', job({ template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } }),
      ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['negative parallelism', job({ parallelism: -1 }), ['spec.parallelism: Invalid value: -1: must be greater than or equal to 0']],
    ['backoffLimitPerIndex without Indexed mode', job({ backoffLimitPerIndex: 1 }),
      ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode']],
    ['Indexed mode without completions', job({ completionMode: 'Indexed', parallelism: 2 }),
      ['spec.completions: Required value: when completion mode is Indexed']],
    ['a pod failure policy with OnFailure', job({ template: podTemplate({ restartPolicy: 'OnFailure' }), podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }),
      ['spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified']],
    ['a template container without image', job({ template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi' }] } } }),
      ['spec.template.spec.containers[0].image: Required value']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(createJob(obj), want));

  test('a manual selector must still select the template', () => {
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'y' } }, ...podTemplate() } });
    assert.deepEqual(createJob(manual), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"y"}: `selector` does not match template `labels`',
    ]);
  });

  test('the template is immutable on update, but parallelism may change', () => {
    const old = preparedJob(job());
    const scaled = structuredClone(old);
    (scaled['spec'] as J)['parallelism'] = 3;
    assert.deepEqual(validateObjectUpdate('batch', 'Job', scaled, old).map(errorString), []);
    const changed = structuredClone(old);
    ((((changed['spec'] as J)['template'] as J)['spec'] as J)['containers'] as J[])[0]!['image'] = 'perl:5.36';
    assert.deepEqual(validateObjectUpdate('batch', 'Job', changed, old).map(errorString), [
      'spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable',
    ]);
  });
});

describe('CronJob', () => {
  test('textbook cron jobs are valid', () => {
    assert.deepEqual(createCronJob(cronJob()), []);
    assert.deepEqual(createCronJob(cronJob({ schedule: '@hourly', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['a missing schedule', cronJob({ schedule: '' }), ['spec.schedule: Required value']],
    ['a schedule with three fields', cronJob({ schedule: '* * *' }), ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']],
    ['a minute out of range', cronJob({ schedule: '61 * * * *' }), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']],
    ['TZ in the schedule', cronJob({ schedule: 'TZ=UTC 0 * * * *' }),
      ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['an unknown time zone', cronJob({ timeZone: 'Mars/Olympus' }), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['an unknown concurrency policy', cronJob({ concurrencyPolicy: 'Sometimes' }),
      ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']],
    ['a job template with a selector', cronJob({ jobTemplate: { spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate() } } }),
      ['spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated']],
    ['a job template with restartPolicy Always', cronJob({ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } }),
      ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['a name longer than 52 characters', cronJob({}, 'a'.repeat(53)), [`metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`]],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(createCronJob(obj), want));
});

describe('cronScheduleError', () => {
  const cases: Array<[string, string | null]> = [
    ['*/15 0-6 1,15 jan-mar mon-fri', null],
    ['@daily', null],
    ['@every 1h30m', null],
    ['@often', 'unrecognized descriptor: @often'],
    ['@every 1x', 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'],
    ['0 25 * * *', 'end of range (25) above maximum (23): 25'],
    ['0 0 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['1/2/3 * * * *', 'too many slashes: 1/2/3'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
  ];
  for (const [schedule, want] of cases) {
    test(`"${schedule}"`, () => assert.equal(cronScheduleError(schedule), want));
  }
});
