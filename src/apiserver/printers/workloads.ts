// Printers for the workload controllers' objects: deployments, replica sets, replication
// controllers, stateful sets, daemon sets, jobs, cron jobs, horizontal pod autoscalers,
// controller revisions, and the scale subresource.
import type { Printer, TableColumnDefinition } from './table.ts';
import { humanDuration } from './duration.ts';
import {
  age, ageColumn, col, conditionTrue, containerCells, containerColumns, formatLabelSelector, formatLabels,
  groupQualified, int, isDeleting, labelSelectorString, list, nameColumn, parseTime, printBoolPtr, since,
  type KObject, type LabelSelector, type PodTemplateSpec, type PrintContext,
} from './format.ts';

/** spec.replicas, which v1 defaulting sets to 1 when a client leaves it out. */
function replicas(value: number | null | undefined): number {
  return typeof value === 'number' ? value : 1;
}

interface ReplicatedObject extends KObject {
  spec?: { replicas?: number; selector?: LabelSelector; template?: PodTemplateSpec };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

function selectorColumn(what: string): TableColumnDefinition {
  return col('Selector', 'string', `Label selector of the pods ${what}.`, 1);
}

/** deployments: NAME READY UP-TO-DATE AVAILABLE AGE (+ CONTAINERS IMAGES SELECTOR). */
export const deploymentPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Ready', 'string', 'Ready pods out of desired pods.'),
    col('Up-to-date', 'string', 'Pods that run the latest pod template.'),
    col('Available', 'string', 'Pods that have been ready for at least minReadySeconds.'),
    ageColumn(),
    ...containerColumns(),
    selectorColumn('the deployment manages'),
  ],
  row: (obj, ctx) => {
    const d = obj as ReplicatedObject;
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    const selector = labelSelectorString(d.spec?.selector) ?? '<invalid>';
    return {
      cells: [
        d.metadata?.name ?? '',
        `${int(d.status?.readyReplicas)}/${replicas(d.spec?.replicas)}`,
        int(d.status?.updatedReplicas),
        int(d.status?.availableReplicas),
        age(d, ctx),
        names,
        images,
        selector,
      ],
    };
  },
};

function desiredCurrentReadyPrinter(what: string, selector: (o: ReplicatedObject) => string): Printer {
  return {
    columns: [
      nameColumn(),
      col('Desired', 'integer', `Number of pods the ${what} asks for.`),
      col('Current', 'integer', `Number of pods the ${what} has.`),
      col('Ready', 'integer', `Number of ready pods of the ${what}.`),
      ageColumn(),
      ...containerColumns(),
      selectorColumn(`the ${what} manages`),
    ],
    row: (obj, ctx) => {
      const r = obj as ReplicatedObject;
      const [names, images] = containerCells(r.spec?.template?.spec?.containers);
      return {
        cells: [
          r.metadata?.name ?? '',
          replicas(r.spec?.replicas),
          int(r.status?.replicas),
          int(r.status?.readyReplicas),
          age(r, ctx),
          names,
          images,
          selector(r),
        ],
      };
    },
  };
}

/** replicasets: NAME DESIRED CURRENT READY AGE (+ CONTAINERS IMAGES SELECTOR). */
export const replicaSetPrinter = desiredCurrentReadyPrinter('replica set', (r) => formatLabelSelector(r.spec?.selector));

/** replicationcontrollers: as replica sets, with a plain label map as selector. */
export const replicationControllerPrinter = desiredCurrentReadyPrinter('replication controller', (r) =>
  formatLabels((r.spec as { selector?: Record<string, string> } | undefined)?.selector),
);

/** statefulsets: NAME READY AGE (+ CONTAINERS IMAGES). */
export const statefulSetPrinter: Printer = {
  columns: [nameColumn(), col('Ready', 'string', 'Ready pods out of desired pods.'), ageColumn(), ...containerColumns()],
  row: (obj, ctx) => {
    const s = obj as ReplicatedObject;
    const [names, images] = containerCells(s.spec?.template?.spec?.containers);
    return {
      cells: [s.metadata?.name ?? '', `${int(s.status?.readyReplicas)}/${replicas(s.spec?.replicas)}`, age(s, ctx), names, images],
    };
  },
};

interface DaemonSet extends KObject {
  spec?: { selector?: LabelSelector; template?: PodTemplateSpec };
  status?: {
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** daemonsets: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE (+ wide). */
export const daemonSetPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Desired', 'integer', 'Nodes that should run the daemon pod.'),
    col('Current', 'integer', 'Nodes that run the daemon pod.'),
    col('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
    col('Up-to-date', 'integer', 'Nodes that run the latest pod template.'),
    col('Available', 'integer', 'Nodes whose daemon pod is available.'),
    col('Node Selector', 'string', 'Labels a node must carry to run the daemon pod.'),
    ageColumn(),
    ...containerColumns(),
    selectorColumn('the daemon set manages'),
  ],
  row: (obj, ctx) => {
    const d = obj as DaemonSet;
    const st = d.status ?? {};
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [
        d.metadata?.name ?? '',
        int(st.desiredNumberScheduled),
        int(st.currentNumberScheduled),
        int(st.numberReady),
        int(st.updatedNumberScheduled),
        int(st.numberAvailable),
        formatLabels(d.spec?.template?.spec?.nodeSelector),
        age(d, ctx),
        names,
        images,
        formatLabelSelector(d.spec?.selector),
      ],
    };
  },
};

interface Job extends KObject {
  spec?: { completions?: number | null; parallelism?: number | null; selector?: LabelSelector; template?: PodTemplateSpec };
  status?: { succeeded?: number; startTime?: string | null; completionTime?: string | null; conditions?: { type?: string; status?: string }[] };
}

function jobStatus(job: Job): string {
  const conds = job.status?.conditions;
  if (conditionTrue(conds, 'Complete')) return 'Complete';
  if (conditionTrue(conds, 'Failed')) return 'Failed';
  if (isDeleting(job)) return 'Terminating';
  if (conditionTrue(conds, 'Suspended')) return 'Suspended';
  if (conditionTrue(conds, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = int(job.status?.succeeded);
  const completions = job.spec?.completions;
  if (typeof completions === 'number') return `${succeeded}/${completions}`;
  const parallelism = int(job.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, ctx: PrintContext): string {
  const start = parseTime(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTime(job.status?.completionTime);
  return humanDuration((end ?? ctx.now) - start);
}

/** jobs: NAME STATUS COMPLETIONS DURATION AGE (+ CONTAINERS IMAGES SELECTOR). */
export const jobPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'The state of the job.'),
    col('Completions', 'string', 'Succeeded pods out of the completions the job asks for.'),
    col('Duration', 'string', 'How long the job ran, or has been running.'),
    ageColumn(),
    ...containerColumns(),
    selectorColumn('the job manages'),
  ],
  row: (obj, ctx) => {
    const j = obj as Job;
    const [names, images] = containerCells(j.spec?.template?.spec?.containers);
    return {
      cells: [
        j.metadata?.name ?? '',
        jobStatus(j),
        jobCompletions(j),
        jobDuration(j, ctx),
        age(j, ctx),
        names,
        images,
        formatLabelSelector(j.spec?.selector),
      ],
    };
  },
};

interface CronJob extends KObject {
  spec?: {
    schedule?: string;
    timeZone?: string | null;
    suspend?: boolean | null;
    jobTemplate?: { spec?: { selector?: LabelSelector; template?: PodTemplateSpec } };
  };
  status?: { active?: unknown[]; lastScheduleTime?: string | null };
}

/** cronjobs: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE (+ wide). */
export const cronJobPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Schedule', 'string', 'The cron schedule.'),
    col('Timezone', 'string', 'The time zone the schedule is read in.'),
    col('Suspend', 'boolean', 'Whether new runs are held back.'),
    col('Active', 'integer', 'Jobs of this cron job that are running.'),
    col('Last Schedule', 'string', 'Time since a job was last scheduled.'),
    ageColumn(),
    ...containerColumns(),
    selectorColumn('the jobs manage'),
  ],
  row: (obj, ctx) => {
    const c = obj as CronJob;
    const jobSpec = c.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = c.status?.lastScheduleTime;
    return {
      cells: [
        c.metadata?.name ?? '',
        c.spec?.schedule ?? '',
        c.spec?.timeZone ?? '<none>',
        printBoolPtr(c.spec?.suspend),
        list(c.status?.active).length,
        last === undefined || last === null ? '<none>' : since(last, ctx),
        age(c, ctx),
        names,
        images,
        formatLabelSelector(jobSpec?.selector),
      ],
    };
  },
};

interface ControllerRevision extends KObject {
  revision?: number;
}

/** controllerrevisions: NAME CONTROLLER REVISION AGE; the controller as "daemonset.apps/name". */
export const controllerRevisionPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Controller', 'string', 'The object that owns this revision.'),
    col('Revision', 'string', 'The revision number.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const r = obj as ControllerRevision;
    const ref = list(r.metadata?.ownerReferences).find((o) => o.controller === true);
    let controller = '<none>';
    if (ref) {
      const apiVersion = ref.apiVersion ?? '';
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const kind = ref.kind ?? '';
      const groupKind = kind === '' && group === '' ? '' : groupQualified(kind, group);
      controller = groupKind === '' ? (ref.name ?? '') : `${groupKind.toLowerCase()}/${ref.name ?? ''}`;
    }
    return { cells: [r.metadata?.name ?? '', controller, int(r.revision), age(r, ctx)] };
  },
};

interface Scale extends KObject {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

/** The scale subresource: NAME DESIRED AVAILABLE AGE (its Name column has no "name" format upstream). */
export const scalePrinter: Printer = {
  columns: [
    { ...nameColumn(), format: '' },
    col('Desired', 'integer', 'Replicas asked for.'),
    col('Available', 'integer', 'Replicas observed.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const s = obj as Scale;
    return { cells: [s.metadata?.name ?? '', int(s.spec?.replicas), int(s.status?.replicas), age(s, ctx)] };
  },
};
