// Defaulters of the batch/v1 kinds (upstream pkg/apis/batch/v1 defaults, feature gates at v1.32
// defaults: JobPodReplacementPolicy and JobBackoffLimitPerIndex on).

import { at, chain, child, clone, eachIn, ensure, fieldDefaults, isEmptyLen, isNil, type Defaulter, type JsonObject } from './json.ts';
import { podTemplateAt } from './pod_spec.ts';

/** backoffLimit when backoffLimitPerIndex is set: math.MaxInt32, so only the per-index limit counts. */
export const MAX_INT32 = 2147483647;

function defaultJob(job: JsonObject): void {
  const spec = ensure(job, 'spec');
  if (spec === undefined) return;
  // Completions and parallelism both default to 1 only when both are unset.
  if (isNil(spec['completions']) && isNil(spec['parallelism'])) spec['completions'] = 1;
  if (isNil(spec['parallelism'])) spec['parallelism'] = 1;
  if (isNil(spec['backoffLimit'])) spec['backoffLimit'] = isNil(spec['backoffLimitPerIndex']) ? 6 : MAX_INT32;
  const templateLabels = at(spec, 'template.metadata.labels');
  if (templateLabels !== undefined && Object.keys(templateLabels).length > 0) {
    const metadata = ensure(job, 'metadata');
    if (metadata && isEmptyLen(metadata['labels'])) metadata['labels'] = clone(templateLabels);
  }
  fieldDefaults([
    { path: 'completionMode', value: 'NonIndexed' },
    { path: 'suspend', value: false },
  ])(spec);
  eachIn(child(spec, 'podFailurePolicy'), 'rules', (rule) => {
    eachIn(rule, 'onPodConditions', (pattern) => fieldDefaults([{ path: 'status', value: 'True', when: 'zero' }])(pattern));
  });
  if (isNil(spec['podReplacementPolicy'])) {
    spec['podReplacementPolicy'] = isNil(spec['podFailurePolicy']) ? 'TerminatingOrFailed' : 'Failed';
  }
  fieldDefaults([{ path: 'manualSelector', value: false }])(spec);
}

/** batch/v1 kinds with defaults. */
export const batchV1Defaulters: Readonly<Record<string, Defaulter>> = {
  Job: chain(defaultJob, podTemplateAt('spec.template')),
  // The job template gets pod template defaults only; Job's own defaults apply when a Job is made.
  CronJob: chain(
    fieldDefaults([
      { path: 'spec.concurrencyPolicy', value: 'Allow', when: 'zero' },
      { path: 'spec.suspend', value: false },
      { path: 'spec.successfulJobsHistoryLimit', value: 3 },
      { path: 'spec.failedJobsHistoryLimit', value: 1 },
    ]),
    podTemplateAt('spec.jobTemplate.spec.template'),
  ),
};
