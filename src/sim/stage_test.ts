// Golden-file tests of the shipped stages (stages/testdata/<case>.input.yaml -> <case>.output.yaml:
// which stage applies, when, and the status patch or delete it produces), and the stage format's
// error messages. TKUBE_UPDATE_GOLDEN=1 rewrites the output files; review the diff before keeping it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { defaultStages, parseStages, pickStage, renderStage, StageKind } from './stage.ts';
import { nodeVars } from './node_object.ts';

const dir = fileURLToPath(new URL('./stages/testdata/', import.meta.url));
const NOW = '2024-01-01T00:00:00Z';
const NOW_MS = Date.parse(NOW);
const update = process.env['TKUBE_UPDATE_GOLDEN'] === '1';

/**
 * The stage variables of the golden cases; an input's optional second document sets `options`,
 * `applied` (ms before NOW) and `nodeReady` (default "True").
 */
function varsFor(kind: string, extra: Record<string, unknown>): Record<string, unknown> {
  if (kind === 'Node') {
    return { now: NOW, node: nodeVars({ name: 'sim-0', ip: '10.244.0.1', capacity: { cpu: '32', memory: '256Gi', pods: '110' } }) };
  }
  const ago = (extra['appliedMsAgo'] ?? {}) as Record<string, number>;
  const applied = Object.fromEntries(Object.entries(ago).map(([k, v]) => [k, NOW_MS - v]));
  return { now: NOW, node: { name: 'sim-0', ip: '10.244.0.1' }, nodeReady: extra['nodeReady'] ?? 'True', podIP: '100.64.0.2', options: extra['options'] ?? {}, applied };
}

/** The golden view of one object: the stage due first, how long until it is due, and what it does. */
function outcome(obj: Record<string, unknown>, extra: Record<string, unknown>): unknown {
  const kind = obj['kind'] as StageKind;
  const env = { root: obj, vars: varsFor(kind, extra) };
  const pick = pickStage(defaultStages(), kind, env, () => NOW_MS);
  if (!pick) return { stage: null };
  const action = renderStage(pick.stage, env);
  return { stage: pick.stage.name, dueInMs: Math.max(0, pick.dueMs - NOW_MS), ...(action.delete ? { delete: true } : { status: action.status }) };
}

describe('sim stages (golden files)', () => {
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).sort();
  test('there are golden cases for every shipped stage', () => {
    const covered = new Set<string>();
    for (const f of inputs) {
      const docs = parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
      const o = outcome(docs[0]!, docs[1] ?? {}) as { stage: string | null };
      if (o.stage) covered.add(o.stage);
    }
    assert.deepEqual([...defaultStages().map((s) => s.name)].filter((n) => !covered.has(n)), []);
  });
  for (const f of inputs) {
    const name = f.replace(/\.input\.yaml$/, '');
    test(name, () => {
      const docs = parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
      const got = outcome(docs[0]!, docs[1] ?? {});
      const outPath = join(dir, `${name}.output.yaml`);
      if (update) writeFileSync(outPath, stringify(got, { lineWidth: 0 }));
      const want: unknown = parseAllDocuments(readFileSync(outPath, 'utf8'))[0]!.toJS();
      assert.deepEqual(got, want);
    });
  }
});

describe('stage format', () => {
  const head = 'apiVersion: sim.tkube.io/v1alpha1\nkind: Stage\nmetadata:\n  name: s\nspec:\n  resourceRef:\n    kind: Pod\n';
  test('errors name the file and the field', () => {
    assert.throws(() => parseStages(head.replace('kind: Pod', 'kind: Service') + '  next:\n    delete: true\n', 'x.yaml'),
      { message: 'x.yaml: spec.resourceRef.kind: must be Pod or Node, got "Service"' });
    assert.throws(() => parseStages(head + '  selector:\n    matchExpressions:\n      - key: .a\n        operator: Has\n  next:\n    delete: true\n', 'x.yaml'),
      { message: 'x.yaml: spec.selector.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist, got "Has"' });
    assert.throws(() => parseStages(head + '  next: {}\n', 'x.yaml'), { message: 'x.yaml: spec.next: needs status or delete: true' });
    assert.throws(() => parseStages(head + '  delay:\n    seconds: 1\n    duration: 1s\n  next:\n    delete: true\n', 'x.yaml'),
      { message: 'x.yaml: spec.delay: needs exactly one of duration and seconds' });
    assert.throws(() => parseStages(head + '  next:\n    status:\n      phase: ${nope(1)}\n', 'x.yaml'), /x\.yaml: spec\.next\.status: .*unknown function "nope"/);
  });

  test('an unparsable delay makes the stage not apply instead of firing at once', () => {
    const [s] = parseStages(head + '  delay:\n    duration: .metadata.annotations.after\n  next:\n    delete: true\n', 'x.yaml');
    const env = (after: string) => ({ root: { metadata: { annotations: { after } } }, vars: {} });
    assert.equal(pickStage([s!], StageKind.Pod, env('soon'), () => 0), undefined);
    assert.equal(pickStage([s!], StageKind.Pod, env('1.5s'), () => 100)?.dueMs, 1600);
  });

  test('stages due at the same time are taken in file order; an earlier due time wins', () => {
    const two = parseStages(`${head}  next:\n    delete: true\n---\n${head.replace('name: s', 'name: t')}  next:\n    delete: true\n`, 'x.yaml');
    assert.equal(pickStage(two, StageKind.Pod, { root: {}, vars: {} }, () => 0)?.stage.name, 's');
    const later = parseStages(`${head}  delay:\n    seconds: 2\n  next:\n    delete: true\n---\n${head.replace('name: s', 'name: t')}  delay:\n    seconds: 1\n  next:\n    delete: true\n`, 'x.yaml');
    assert.equal(pickStage(later, StageKind.Pod, { root: {}, vars: {} }, () => 0)?.stage.name, 't');
  });
});
