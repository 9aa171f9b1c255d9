/**
 * The emulator's new runs (emulator/runs.ts) and its logs endpoint (emulator/logs.ts): a test decides what each
 * re-run's new run does; a run that fails again lands back in the DLQ; `GET /v2/workflows/logs` answers as Upstash's
 * Workflow OpenAPI document describes it, and the requests the verify wait sends are checked against that document.
 * Then the wait itself (src/verify.ts) over HTTP against the emulator.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DlqEmulator, messageEntries, workflowEntries, type EmulatorOptions } from '../../emulator/server.ts';
import { systemClock } from '../../src/qstash/clock.ts';
import { verifyRuns, type LogsExchange, type LogsReply, type WatchedRun } from '../../src/verify.ts';

let emulator: DlqEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: EmulatorOptions = {}): Promise<DlqEmulator> {
  emulator = await DlqEmulator.start(options);
  return emulator;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(em: DlqEmulator, method: string, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${em.url}${path}`, { method, headers: { authorization: `Bearer ${em.token}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

interface Spec {
  paths: Record<string, { get: { parameters: { name: string; schema: { maximum?: number } }[] } }>;
  components: { schemas: { WorkflowRun: { properties: Record<string, unknown> } } };
}
const spec = parse(
  readFileSync(new URL('../../../shared/reference/openapi/workflow-openapi.yaml', import.meta.url), 'utf8'),
) as Spec;
const LOGS_PARAMS = spec.paths['/v2/workflows/logs']!.get.parameters;
const RUN_FIELDS = Object.keys(spec.components.schemas.WorkflowRun.properties);

/** Throws unless every query parameter is one the document lists for the logs endpoint, within its maximum. */
function checkAgainstSpec(path: string): void {
  const url = new URL(path, 'http://x');
  expect(url.pathname).toBe('/v2/workflows/logs');
  for (const [name, value] of url.searchParams) {
    const param = LOGS_PARAMS.find((p) => p.name === name);
    expect(param, `${name} is a documented logs parameter`).toBeDefined();
    if (param!.schema.maximum !== undefined) expect(Number(value)).toBeLessThanOrEqual(param!.schema.maximum);
  }
  for (const pair of (url.searchParams.get('workflowRuns') ?? '').split(',')) expect(pair).toMatch(/^.+@\d+$/);
}

const enc = encodeURIComponent;
const pairs = (runs: readonly { workflowRunId: string; workflowCreatedAt: number }[]): string =>
  runs.map((run) => `${enc(run.workflowRunId)}@${run.workflowCreatedAt}`).join(',');

describe('new runs: outcomes a test decides', () => {
  it('default: the new run succeeds at once, and the logs say so by its id and createdAt', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    const rerun = await call(em, 'POST', `/v2/workflows/dlq/restart/${enc(id!)}`);
    expect(rerun.body).toEqual({ workflowRunId: expect.any(String), workflowCreatedAt: expect.any(Number) });
    const logs = await call(em, 'GET', `/v2/workflows/logs?workflowRuns=${pairs([rerun.body])}`);
    expect(logs.status).toBe(200);
    expect(logs.body).toEqual({
      cursor: '',
      runs: [
        expect.objectContaining({
          workflowRunId: rerun.body.workflowRunId,
          workflowRunCreatedAt: rerun.body.workflowCreatedAt,
          workflowState: 'RUN_SUCCESS',
        }),
      ],
    });
    for (const field of Object.keys(logs.body.runs[0])) expect(RUN_FIELDS).toContain(field);
  });

  it('RUN_FAILED after a delay lands back in the DLQ: a new dlqId, the new run id, createdAt at the failure', async () => {
    const em = await start({ runOutcomes: () => ({ state: 'RUN_FAILED', afterMs: 150 }) });
    const [id] = em.seed('workflow', workflowEntries(1, { label: 'billing' }));
    const rerun = await call(em, 'POST', `/v2/workflows/dlq/resume/${enc(id!)}`);
    const path = `/v2/workflows/logs?workflowRuns=${pairs([rerun.body])}`;
    expect((await call(em, 'GET', path)).body.runs[0].workflowState).toBe('RUN_STARTED');
    expect(em.ids('workflow')).toEqual([id]);
    await sleep(200);
    const after = (await call(em, 'GET', path)).body.runs[0];
    expect(after.workflowState).toBe('RUN_FAILED');
    expect(after.dlqId).toEqual(expect.any(String));
    expect(after.dlqId).not.toBe(id);
    const entry = em.get('workflow', after.dlqId)!;
    expect(entry).toMatchObject({
      workflowRunId: rerun.body.workflowRunId,
      workflowCreatedAt: rerun.body.workflowCreatedAt,
      createdAt: rerun.body.workflowCreatedAt + 150,
      label: 'billing',
    });
    // The DLQ listing shows it too.
    const list = await call(em, 'GET', '/v2/workflows/dlq');
    expect(list.body.messages.map((m: { dlqId: string }) => m.dlqId)).toContain(after.dlqId);
  });

  it('per id and operation; RUN_STARTED never ends; RUN_CANCELED', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(3));
    em.runOutcomes = (dlqId) =>
      dlqId === ids[0]
        ? { state: 'RUN_STARTED' }
        : dlqId === ids[1]
          ? { state: 'RUN_CANCELED' }
          : { state: 'RUN_SUCCESS' };
    const rerun = await call(em, 'POST', `/v2/workflows/dlq/restart?${ids.map((i) => `dlqIds=${enc(i)}`).join('&')}`);
    const runs = rerun.body.workflowRuns as { workflowRunId: string; workflowCreatedAt: number }[];
    await sleep(20);
    const logs = await call(em, 'GET', `/v2/workflows/logs?workflowRuns=${pairs(runs)}`);
    expect(logs.body.runs.map((r: { workflowState: string }) => r.workflowState)).toEqual([
      'RUN_STARTED',
      'RUN_CANCELED',
      'RUN_SUCCESS',
    ]);
    expect(em.runs.map((r) => [r.fromDlqId, r.operation, r.state])).toEqual([
      [ids[0], 'restart', 'RUN_STARTED'],
      [ids[1], 'restart', 'RUN_CANCELED'],
      [ids[2], 'restart', 'RUN_SUCCESS'],
    ]);
  });

  it('a resume that keeps the run id: only workflowCreatedAt tells the old failed run from the new one', async () => {
    const em = await start({ resumeKeepsRunId: true });
    const [entry] = workflowEntries(1);
    em.seed('workflow', [entry!]);
    const rerun = await call(em, 'POST', `/v2/workflows/dlq/resume/${enc(entry!.dlqId)}`);
    expect(rerun.body.workflowRunId).toBe(entry!.workflowRunId);
    const byId = await call(em, 'GET', `/v2/workflows/logs?workflowRunId=${enc(rerun.body.workflowRunId)}`);
    expect(byId.body.runs.map((r: { workflowState: string }) => r.workflowState).sort()).toEqual([
      'RUN_FAILED',
      'RUN_SUCCESS',
    ]);
    const old = byId.body.runs.find((r: { workflowState: string }) => r.workflowState === 'RUN_FAILED');
    expect(old).toMatchObject({ dlqId: entry!.dlqId, workflowRunCreatedAt: entry!.workflowCreatedAt });
    const exact = await call(em, 'GET', `/v2/workflows/logs?workflowRuns=${pairs([rerun.body])}`);
    expect(exact.body.runs).toEqual([expect.objectContaining({ workflowState: 'RUN_SUCCESS' })]);
  });
});

describe('GET /v2/workflows/logs', () => {
  it('workflowRuns ignores the other filters; unknown pairs are simply absent', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(2));
    const rerun = await call(em, 'POST', `/v2/workflows/dlq/restart/${enc(ids[0]!)}`);
    const logs = await call(
      em,
      'GET',
      `/v2/workflows/logs?state=RUN_FAILED&workflowUrl=https://nowhere.example&workflowRuns=${pairs([rerun.body])},nosuch@5`,
    );
    expect(logs.body.runs).toEqual([expect.objectContaining({ workflowRunId: rerun.body.workflowRunId })]);
  });

  it('a workflowRuns pair that is not <id>@<ms> is a 400 naming it', async () => {
    const em = await start();
    const logs = await call(em, 'GET', '/v2/workflows/logs?workflowRuns=abc');
    expect(logs.status).toBe(400);
    expect(logs.body.error).toMatch(/abc/);
  });

  it('the state filter, and a 400 for a state the document does not list', async () => {
    const em = await start({
      runOutcomes: (dlqId) => ({ state: dlqId.endsWith('-0') ? 'RUN_FAILED' : 'RUN_SUCCESS' }),
    });
    const ids = em.seed('workflow', workflowEntries(3));
    for (const id of ids) await call(em, 'POST', `/v2/workflows/dlq/restart/${enc(id)}`);
    const success = await call(em, 'GET', '/v2/workflows/logs?state=RUN_SUCCESS');
    expect(success.body.runs).toHaveLength(2);
    // The 3 seeded failures and the 1 re-failed run.
    const failed = await call(em, 'GET', '/v2/workflows/logs?state=RUN_FAILED');
    expect(failed.body.runs).toHaveLength(4);
    expect((await call(em, 'GET', '/v2/workflows/logs?state=RUN_MAYBE')).status).toBe(400);
  });

  it('count and cursor page through, newest first; the last page has an empty cursor', async () => {
    const em = await start();
    em.seed('workflow', workflowEntries(5));
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page += 1) {
      const logs = await call(em, 'GET', `/v2/workflows/logs?count=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(logs.body.runs.length).toBeLessThanOrEqual(2);
      seen.push(...logs.body.runs.map((r: { workflowRunId: string }) => r.workflowRunId));
      cursor = logs.body.cursor;
      if (cursor === '') break;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('fault rules apply to it like any route, and auth does', async () => {
    const em = await start();
    em.faults.push({ pathIncludes: '/v2/workflows/logs', status: 503, body: '{"error":"busy"}', times: 1 });
    expect((await call(em, 'GET', '/v2/workflows/logs')).status).toBe(503);
    expect((await call(em, 'GET', '/v2/workflows/logs')).status).toBe(200);
    const anonymous = await fetch(`${em.url}/v2/workflows/logs`);
    expect(anonymous.status).toBe(401);
  });
});

/** The wait over HTTP, recording each request's path. */
function httpSend(em: DlqEmulator, paths: string[]) {
  return async (exchange: LogsExchange, signal: AbortSignal): Promise<LogsReply> => {
    paths.push(exchange.path);
    try {
      const response = await fetch(`${em.url}${exchange.path}`, {
        headers: { authorization: `Bearer ${em.token}` },
        signal,
      });
      return { kind: 'answered', status: response.status, body: await response.text() };
    } catch (error) {
      return { kind: 'failed', reason: String(error) };
    }
  };
}

describe('the verify wait against the emulator', () => {
  it('some succeed, some fail again (new DLQ ids named), some stay running; requests match the document', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(120));
    em.runOutcomes = (dlqId) => {
      const index = ids.indexOf(dlqId);
      if (index % 40 === 0) return { state: 'RUN_FAILED', afterMs: 50 };
      if (index === 7) return { state: 'RUN_STARTED' };
      return { state: 'RUN_SUCCESS', afterMs: 30 };
    };
    const watched: WatchedRun[] = [];
    for (const id of ids) {
      const rerun = await call(em, 'POST', `/v2/workflows/dlq/resume/${enc(id)}`);
      watched.push({ id, ...rerun.body });
    }
    const paths: string[] = [];
    const result = await verifyRuns(
      watched,
      httpSend(em, paths),
      systemClock,
      { durationMs: 1_500, minIntervalMs: 200, maxIntervalMs: 400 },
      new AbortController().signal,
    );
    expect(result.reFailed).toEqual([ids[0], ids[40], ids[80]]);
    for (const id of result.reFailed) {
      const newDlqId = result.reFailedDlqIds[id]!;
      expect(newDlqId).not.toBe(id);
      expect(em.has('workflow', newDlqId)).toBe(true);
    }
    expect(result.counts).toMatchObject({ RUN_SUCCESS: 116, RUN_FAILED: 3, RUN_STARTED: 1, unknown: 0 });
    expect(result.ended).toBe('deadline');
    expect(result.notes).toEqual([]);
    for (const path of paths) checkAgainstSpec(path);
    // The first round: 3 requests (50 runs each at most); later rounds ask only for the run still running.
    expect(
      paths.slice(0, 3).map((p) => new URL(p, 'http://x').searchParams.get('workflowRuns')!.split(',').length),
    ).toEqual([50, 50, 20]);
  });
});

describe('a QStash retry answered deduplicated: true', () => {
  it('per id: 201, the old message id, deduplicated: true, nothing new, the entry kept', async () => {
    const em = await start();
    const [entry, other] = messageEntries(2);
    em.seed('qstash', [entry!, other!]);
    em.retryDeduplicates = (dlqId) => dlqId === entry!.dlqId;
    const retried = await call(em, 'POST', `/v2/dlq/retry/${enc(entry!.dlqId)}`);
    expect(retried).toEqual({ status: 201, body: { messageId: entry!.messageId, deduplicated: true } });
    expect(em.has('qstash', entry!.dlqId)).toBe(true);
    const plain = await call(em, 'POST', `/v2/dlq/retry/${enc(other!.dlqId)}`);
    expect(plain.body).toEqual({ messageId: expect.stringMatching(/^msg_rerun_/) });
    expect(em.has('qstash', other!.dlqId)).toBe(false);
  });

  it('bulk: item by item', async () => {
    const em = await start({ retryDeduplicates: (dlqId) => dlqId.endsWith('-1') });
    const ids = em.seed('qstash', messageEntries(3));
    const retried = await call(em, 'POST', `/v2/dlq/retry?${ids.map((id) => `dlqIds=${enc(id)}`).join('&')}`);
    expect(retried.status).toBe(201);
    expect(retried.body.responses.map((r: { deduplicated?: boolean }) => r.deduplicated === true)).toEqual([
      false,
      true,
      false,
    ]);
  });
});
