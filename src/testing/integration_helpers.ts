// What API integration tests share beyond startTestServer: kubectl calls that must succeed or
// fail, admission configuration that is in effect once applied, and a server audited with a
// given policy (--audit-policy-file, --audit-log-path) whose log the test reads back.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFor } from '../api/resource_table.ts';
import type { ApiServer } from '../apiserver/server.ts';
import { Auditor } from '../apiserver/audit/auditor.ts';
import { AuditLogBackend } from '../apiserver/audit/log_backend.ts';
import { loadAuditPolicy } from '../apiserver/audit/policy.ts';
import { startTestServer, type KubectlResult, type TestServer } from './test_server.ts';

/** A server kubectl can be run against (a TestServer or an AuditedServer). */
export interface KubectlTarget {
  kubectl(args: readonly string[], opts?: { input?: string }): Promise<KubectlResult>;
}

/** Runs kubectl and asserts it succeeded. */
export async function kubectlOk(s: KubectlTarget, args: readonly string[], input?: string): Promise<KubectlResult> {
  const r = await s.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

/** Runs kubectl and asserts it failed; returns its trimmed stderr. */
export async function kubectlFails(s: KubectlTarget, args: readonly string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded: ${r.stdout}`);
  return r.stderr.trim();
}

/** `kubectl apply` of CustomResourceDefinitions, then waits until each named one is Established. */
export async function applyCrds(s: KubectlTarget, yaml: string, ...names: string[]): Promise<void> {
  await kubectlOk(s, ['apply', '-f', '-'], yaml);
  await kubectlOk(s, ['wait', '--for', 'condition=established', ...names.map((n) => `crd/${n}`), '--timeout=10s']);
}

const ADMISSION_CONFIGURATION = ['validatingadmissionpolicies', 'validatingadmissionpolicybindings',
  'mutatingwebhookconfigurations', 'validatingwebhookconfigurations'] as const;

/**
 * `kubectl apply` of admission configuration (policies, bindings, webhook configurations), then
 * waits until the watch caches the admission plugins read hold it: the next request sees it.
 */
export async function applyAdmissionConfiguration(s: KubectlTarget & { readonly api: ApiServer }, yaml: string): Promise<void> {
  await kubectlOk(s, ['apply', '-f', '-'], yaml);
  for (const r of ADMISSION_CONFIGURATION) await s.api.storeFor(resourceFor('admissionregistration.k8s.io', 'v1', r)!).cache.sync();
}

/** One line of the audit log (audit.k8s.io/v1 Event, as written). */
export interface LoggedEvent {
  level: string; auditID: string; stage: string; requestURI: string; verb: string;
  user: { username?: string; groups?: string[] }; impersonatedUser?: { username: string };
  sourceIPs: string[]; userAgent?: string;
  objectRef?: Record<string, string>; responseStatus?: { metadata: object; status?: string; message?: string; reason?: string; code?: number };
  requestObject?: Record<string, unknown>; responseObject?: Record<string, unknown>;
  requestReceivedTimestamp: string; stageTimestamp: string; annotations?: Record<string, string>;
}

/** A running server whose requests are audited into a log file. */
export interface AuditedServer extends TestServer {
  /** The lines of the audit log so far (flushed first). */
  logLines(): Promise<string[]>;
  /** Waits until the log holds an event matching `pred`; returns every event. */
  untilLogged(what: string, pred: (e: LoggedEvent) => boolean): Promise<LoggedEvent[]>;
}

/** Starts a server audited with `policy` (an audit.k8s.io/v1 Policy in YAML); pair with stop(). */
export async function startAuditedServer(policy: string): Promise<AuditedServer> {
  const auditDir = await mkdtemp(join(tmpdir(), 'tkube-audit-'));
  const policyPath = join(auditDir, 'audit-policy.yaml');
  await writeFile(policyPath, policy);
  const logPath = join(auditDir, 'log', 'audit.log');
  const backend = new AuditLogBackend({ path: logPath, maxAgeDays: 1, maxBackups: 1, maxSizeMB: 10 });
  const s = await startTestServer({ auditor: new Auditor({ policy: await loadAuditPolicy(policyPath), backend }) });
  const logLines = async (): Promise<string[]> => {
    await backend.flush();
    return (await readFile(logPath, 'utf8')).split('\n').filter((l) => l !== '');
  };
  return {
    ...s,
    logLines,
    async untilLogged(what, pred) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const events = (await logLines()).map((l) => JSON.parse(l) as LoggedEvent);
        if (events.some(pred)) return events;
        if (Date.now() > deadline) assert.fail(`no audit line for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await s.stop();
      await backend.dispose();
      await rm(auditDir, { recursive: true, force: true });
    },
  };
}
