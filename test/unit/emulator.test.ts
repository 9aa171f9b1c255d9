/**
 * The emulator itself: its table of operations, the redrive routes (restart, resume, failure-callback retry and
 * cancel, message retry; per id and bulk),
 * the re-runs log, request records, cursor modes, faults on POST routes, TLS, idle keep-alive timeout, and the CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DlqEmulator,
  WORKFLOW_BULK_REDRIVE_LIMIT,
  messageEntries,
  workflowEntries,
  type EmulatorOptions,
} from '../../emulator/server.ts';
import { OPERATIONS } from '../../emulator/operations.ts';

let emulator: DlqEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: EmulatorOptions = {}): Promise<DlqEmulator> {
  emulator = await DlqEmulator.start(options);
  return emulator;
}

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  em: DlqEmulator,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  init: { token?: string; signal?: AbortSignal } = {},
): Promise<Reply> {
  const response = await fetch(`${em.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${init.token ?? em.token}`, ...headers },
    ...(init.signal && { signal: init.signal }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const enc = encodeURIComponent;
const idsQuery = (ids: readonly string[]): string => ids.map((id) => `dlqIds=${enc(id)}`).join('&');

describe('the table of operations', () => {
  it('names each method and path once, so that no entry hides another', () => {
    const keys = OPERATIONS.map((operation) => `${operation.method} ${operation.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('per-id workflow redrive', () => {
  it('restart answers a new run, keeps the entry by default, and logs the re-run', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    const first = await call(em, 'POST', `/v2/workflows/dlq/restart/${enc(id!)}`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      workflowRunId: expect.stringMatching(/^wfr_/),
      workflowCreatedAt: expect.any(Number),
    });
    expect(Object.keys(first.body).sort()).toEqual(['workflowCreatedAt', 'workflowRunId']);
    expect(em.has('workflow', id!)).toBe(true);
    const second = await call(em, 'POST', `/v2/workflows/dlq/restart/${enc(id!)}`);
    expect(second.body.workflowRunId).not.toBe(first.body.workflowRunId);
    expect(em.reruns).toEqual([
      expect.objectContaining({ dlq: 'workflow', operation: 'restart', dlqId: id, newId: first.body.workflowRunId }),
      expect.objectContaining({ dlq: 'workflow', operation: 'restart', dlqId: id, newId: second.body.workflowRunId }),
    ]);
    expect(em.rerunsOf('workflow', id!)).toHaveLength(2);
  });

  it('with redriveRemoves.workflow the entry leaves the DLQ, and a second restart is a 404', async () => {
    const em = await start({ redriveRemoves: { workflow: true } });
    const [a, b] = em.seed('workflow', workflowEntries(2));
    expect((await call(em, 'POST', `/v2/workflows/dlq/restart/${a}`)).status).toBe(200);
    expect((await call(em, 'POST', `/v2/workflows/dlq/resume/${b}`)).status).toBe(200);
    expect(em.ids('workflow')).toEqual([]);
    expect((await call(em, 'POST', `/v2/workflows/dlq/restart/${a}`)).status).toBe(404);
    expect(em.reruns).toHaveLength(2);
  });

  it('404 for an absent entry, 400 for one that cannot be resumed or restarted', async () => {
    const em = await start();
    const [stuck] = em.seed('workflow', workflowEntries(1, { resumable: false, restartable: false }));
    for (const op of ['restart', 'resume', 'callback']) {
      const missing = await call(em, 'POST', `/v2/workflows/dlq/${op}/not-there`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: expect.any(String) });
    }
    const resume = await call(em, 'POST', `/v2/workflows/dlq/resume/${stuck}`);
    expect(resume.status).toBe(400);
    expect(resume.body).toEqual({ error: expect.any(String) });
    expect((await call(em, 'POST', `/v2/workflows/dlq/restart/${stuck}`)).status).toBe(400);
    expect(em.reruns).toEqual([]);
  });

  it('decodes the id of a per-id redrive path', async () => {
    const em = await start();
    em.seed('workflow', [{ ...workflowEntries(1)[0]!, dlqId: 'a/b c' }]);
    expect((await call(em, 'POST', `/v2/workflows/dlq/resume/${enc('a/b c')}`)).status).toBe(200);
    expect(em.reruns[0]!.dlqId).toBe('a/b c');
  });

  it('callback: re-runs a failed failure callback once; the entry stays, in progress', async () => {
    const em = await start();
    const [failed] = em.seed('workflow', workflowEntries(1, { workflowRunId: 'wfr_orig', workflowCreatedAt: 123 }));
    const [succeeded] = em.seed('workflow', workflowEntries(1, { failureFunctionState: 'CALLBACK_SUCCESS' }, 1e12));
    const [info] = em.seed(
      'workflow',
      workflowEntries(1, { failureFunctionState: undefined, failureCallbackInfo: { state: 'CALLBACK_FAIL' } }, 2e12),
    );
    const answer = await call(em, 'POST', `/v2/workflows/dlq/callback/${failed}`);
    expect(answer).toEqual({ status: 200, body: { workflowRunId: 'wfr_orig', workflowCreatedAt: 123 } });
    expect(em.get('workflow', failed!)?.failureFunctionState).toBe('CALLBACK_INPROGRESS');
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${failed}`)).status).toBe(400);
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${succeeded}`)).status).toBe(400);
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${info}`)).status).toBe(200);
    expect(em.get('workflow', info!)?.failureCallbackInfo).toEqual({ state: 'CALLBACK_INPROGRESS' });
    expect(em.reruns.map((r) => [r.operation, r.dlqId])).toEqual([
      ['callback', failed],
      ['callback', info],
    ]);
    expect(em.has('workflow', failed!)).toBe(true);
  });

  it('callback cancel: 302 for a callback in progress (it becomes canceled), 400 when none is, 404 when absent', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    expect((await call(em, 'DELETE', `/v2/workflows/dlq/callback/${id}`)).status).toBe(400);
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${id}`)).status).toBe(200);
    const cancel = await fetch(`${em.url}/v2/workflows/dlq/callback/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${em.token}` },
      redirect: 'manual',
    });
    expect(cancel.status).toBe(302);
    expect(em.get('workflow', id!)?.failureFunctionState).toBe('CALLBACK_CANCELED');
    expect((await call(em, 'DELETE', `/v2/workflows/dlq/callback/${id}`)).status).toBe(400);
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${id}`)).status).toBe(400);
    expect((await call(em, 'DELETE', '/v2/workflows/dlq/callback/not-there')).status).toBe(404);
    expect(em.has('workflow', id!)).toBe(true);
  });

  it('POST to an entry itself is a 405; GET of /restart/<id> is not a route; GET /v2/workflows/dlq/restart reads an entry', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    expect((await call(em, 'POST', `/v2/workflows/dlq/${id}`)).status).toBe(405);
    expect((await call(em, 'GET', `/v2/workflows/dlq/restart/${id}`)).status).toBe(404);
    expect((await call(em, 'GET', `/v2/workflows/dlq/restart`)).status).toBe(404);
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback`)).status).toBe(405);
    expect(em.reruns).toEqual([]);
  });
});

describe('message DLQ retry', () => {
  it('per id: 201 with a new message id, the entry leaves the DLQ; 404 when absent', async () => {
    const em = await start();
    const [a, b] = em.seed('qstash', messageEntries(2));
    const answer = await call(em, 'POST', `/v2/dlq/retry/${a}`, { 'Upstash-Retries': '0' });
    expect(answer).toEqual({ status: 201, body: { messageId: expect.stringMatching(/^msg_rerun_/) } });
    expect(em.ids('qstash')).toEqual([b]);
    expect((await call(em, 'POST', `/v2/dlq/retry/${a}`)).status).toBe(404);
    expect(em.reruns).toEqual([
      expect.objectContaining({
        dlq: 'qstash',
        operation: 'retry',
        dlqId: a,
        newId: answer.body.messageId,
        headers: { 'upstash-retries': '0' },
        bulk: false,
      }),
    ]);
  });

  it('bulk by ids: 201 {responses}, every named id at once, no cursor', async () => {
    const em = await start();
    const ids = em.seed('qstash', messageEntries(120));
    const answer = await call(em, 'POST', `/v2/dlq/retry?${idsQuery(ids)}`);
    expect(answer.status).toBe(201);
    expect(answer.body.cursor).toBeUndefined();
    expect(answer.body.responses).toHaveLength(120);
    expect(new Set(answer.body.responses.map((r: { messageId: string }) => r.messageId)).size).toBe(120);
    expect(em.ids('qstash')).toEqual([]);
  });

  it('bulk by filter pages with count and cursor', async () => {
    const em = await start();
    const wanted = em.seed('qstash', messageEntries(5, { topicName: 'billing' }, 1e12));
    const other = em.seed('qstash', messageEntries(3, { topicName: 'search' }, 2e12));
    const first = await call(em, 'POST', '/v2/dlq/retry?topicName=billing&count=3');
    expect(first.body.responses).toHaveLength(3);
    expect(first.body.cursor).toEqual(expect.any(String));
    const second = await call(em, 'POST', `/v2/dlq/retry?topicName=billing&count=3&cursor=${first.body.cursor}`);
    expect(second.body.responses).toHaveLength(2);
    expect(second.body.cursor).toBeUndefined();
    expect(em.reruns.map((r) => r.dlqId)).toEqual(wanted);
    expect(em.ids('qstash')).toEqual(other);
  });
});

describe('bulk workflow restart / resume', () => {
  it(`re-runs at most ${WORKFLOW_BULK_REDRIVE_LIMIT} named ids per request and returns a cursor for the rest`, async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(120));
    const runs: string[] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    do {
      const answer = await call(
        em,
        'POST',
        `/v2/workflows/dlq/restart?${idsQuery(ids)}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(answer.status).toBe(200);
      expect(answer.body.workflowRuns.length).toBeLessThanOrEqual(50);
      for (const run of answer.body.workflowRuns) {
        expect(Object.keys(run).sort()).toEqual(['workflowCreatedAt', 'workflowRunId']);
        runs.push(run.workflowRunId);
      }
      cursor = answer.body.cursor;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    expect(cursors).toHaveLength(2);
    expect(new Set(runs).size).toBe(120);
    expect(em.reruns.map((r) => r.dlqId)).toEqual(ids);
    expect(em.reruns.every((r) => r.bulk && r.operation === 'restart')).toBe(true);
    expect(em.ids('workflow')).toEqual(ids); // stays by default
  });

  it('count lowers the batch; repeated ids run once', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(5));
    const answer = await call(em, 'POST', `/v2/workflows/dlq/resume?${idsQuery([...ids, ids[0]!])}&count=2`);
    expect(answer.body.workflowRuns).toHaveLength(2);
    expect(answer.body.cursor).toBe('2');
    const rest = await call(em, 'POST', `/v2/workflows/dlq/resume?${idsQuery([...ids, ids[0]!])}&count=100&cursor=2`);
    expect(rest.body.workflowRuns).toHaveLength(3);
    expect(rest.body.cursor).toBeUndefined();
    expect(em.reruns.map((r) => r.dlqId)).toEqual(ids);
  });

  it('by filter (and everything with no filter), paging until no cursor; each entry once', async () => {
    const em = await start();
    const wanted = em.seed('workflow', workflowEntries(70, { label: 'nightly' }, 1e12));
    const other = em.seed('workflow', workflowEntries(5, { label: 'other' }, 2e12));
    let cursor: string | undefined;
    let requests = 0;
    do {
      const answer = await call(
        em,
        'POST',
        `/v2/workflows/dlq/restart?label=nightly&count=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(answer.body.workflowRuns.length).toBeLessThanOrEqual(50);
      cursor = answer.body.cursor;
      requests += 1;
    } while (cursor);
    expect(requests).toBe(2);
    expect(em.reruns.map((r) => r.dlqId)).toEqual(wanted);
    const all = await call(em, 'POST', '/v2/workflows/dlq/resume');
    expect(all.body.workflowRuns).toHaveLength(50);
    expect(em.reruns.slice(70).map((r) => r.dlqId)).toEqual([...wanted, ...other].slice(0, 50));
  });

  it('with redriveRemoves.workflow, re-run entries leave; id cursors still reach every entry', async () => {
    const em = await start({ redriveRemoves: { workflow: true } });
    const ids = em.seed('workflow', workflowEntries(120));
    let cursor: string | undefined;
    do {
      const answer = await call(em, 'POST', `/v2/workflows/dlq/restart?count=50${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = answer.body.cursor;
    } while (cursor);
    expect(em.ids('workflow')).toEqual([]);
    expect(em.reruns.map((r) => r.dlqId)).toEqual(ids);
  });

  it('missing named ids: reject (404, nothing re-run), partial (re-run, then 404), ignore (skipped)', async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(2));
    const path = `/v2/workflows/dlq/restart?${idsQuery([ids[0]!, 'not-there', ids[1]!])}`;
    const rejected = await call(em, 'POST', path);
    expect(rejected.status).toBe(404);
    expect(rejected.body).toEqual({ error: expect.any(String) });
    expect(em.reruns).toEqual([]);
    em.redriveMissing = 'partial';
    expect((await call(em, 'POST', path)).status).toBe(404);
    expect(em.reruns.map((r) => r.dlqId)).toEqual(ids);
    em.redriveMissing = 'ignore';
    const ignored = await call(em, 'POST', path);
    expect(ignored.status).toBe(200);
    expect(ignored.body.workflowRuns).toHaveLength(2);
    const qstash = em.seed('qstash', messageEntries(1));
    em.redriveMissing = 'reject';
    expect((await call(em, 'POST', `/v2/dlq/retry?${idsQuery([qstash[0]!, 'nope'])}`)).status).toBe(404);
    expect(em.has('qstash', qstash[0]!)).toBe(true);
  });

  it('resume: a named entry that cannot be resumed is a 400 (nothing re-run); by filter it is skipped', async () => {
    const em = await start();
    const [ok] = em.seed('workflow', workflowEntries(1, {}, 1e12));
    const [stuck] = em.seed('workflow', workflowEntries(1, { resumable: false }, 2e12));
    const named = await call(em, 'POST', `/v2/workflows/dlq/resume?${idsQuery([ok!, stuck!])}`);
    expect(named.status).toBe(400);
    expect(em.reruns).toEqual([]);
    const byFilter = await call(em, 'POST', '/v2/workflows/dlq/resume?failureFunctionState=CALLBACK_FAIL');
    expect(byFilter.body.workflowRuns).toHaveLength(1);
    expect(em.reruns.map((r) => r.dlqId)).toEqual([ok]);
  });
});

describe('override headers', () => {
  it('are validated (400, nothing re-run) and recorded with each re-run', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    const bad: Record<string, string>[] = [
      { 'Upstash-Retries': '-1' },
      { 'Upstash-Retries': 'three' },
      { 'Upstash-Retries': '1.5' },
      { 'Upstash-Delay': 'soon' },
      { 'Upstash-Flow-Control-Value': 'parallelism=1' },
      { 'Upstash-Flow-Control-Key': 'k', 'Upstash-Flow-Control-Value': 'speed=fast' },
      { 'Upstash-Failure-Callback': 'not a url' },
    ];
    for (const headers of bad) {
      const answer = await call(em, 'POST', `/v2/workflows/dlq/restart/${id}`, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(400);
      expect(answer.body).toEqual({ error: expect.any(String) });
      expect((await call(em, 'POST', `/v2/workflows/dlq/resume?dlqIds=${id}`, headers)).status).toBe(400);
    }
    expect(em.reruns).toEqual([]);
    const good = {
      'Upstash-Retries': '3',
      'Upstash-Delay': '10s',
      'Upstash-Retry-Delay': '1000 * pow(2, retried)',
      'Upstash-Flow-Control-Key': 'tenant-1',
      'Upstash-Flow-Control-Value': 'parallelism=2, rate=10, period=1m',
      'Upstash-Label': 'a,b',
      'Upstash-Failure-Callback': 'https://app.example.com/failed',
    };
    expect((await call(em, 'POST', `/v2/workflows/dlq/resume/${id}`, { ...good, 'X-Other': '1' })).status).toBe(200);
    expect(em.reruns[0]!.headers).toEqual(
      Object.fromEntries(Object.entries(good).map(([k, v]) => [k.toLowerCase(), v])),
    );
  });
});

describe('request records', () => {
  it('hold the headers without authorization, whether the token was right, and can be counted by prefix', async () => {
    const em = await start();
    await call(em, 'GET', '/v2/workflows/dlq?count=5', { 'X-Trace': 't1' });
    await call(em, 'POST', '/v2/workflows/dlq/restart/x', {}, { token: 'wrong' });
    expect(em.requests[0]!.headers['x-trace']).toBe('t1');
    expect(em.requests.every((r) => !('authorization' in r.headers))).toBe(true);
    expect(em.requests.map((r) => [r.authorized, r.result])).toEqual([
      [true, 200],
      [false, 401],
    ]);
    expect(em.countRequests('POST', '/v2/workflows/dlq/restart')).toBe(1);
    expect(em.countRequests('GET', '/v2/workflows/dlq')).toBe(1);
    expect(em.countRequests('DELETE', '/v2/workflows/dlq')).toBe(0);
  });
});

describe('cursor modes', () => {
  it("'id' (default): deleting entries while paging skips nothing", async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(9));
    const first = await call(em, 'GET', '/v2/workflows/dlq?count=3');
    em.remove('workflow', ids.slice(0, 3));
    const second = await call(em, 'GET', `/v2/workflows/dlq?count=3&cursor=${first.body.cursor}`);
    expect(second.body.messages.map((m: { dlqId: string }) => m.dlqId)).toEqual(ids.slice(3, 6));
  });

  it("'position': the cursor is an offset, so deleting while paging skips entries", async () => {
    const em = await start({ cursor: 'position' });
    const ids = em.seed('workflow', workflowEntries(9));
    const first = await call(em, 'GET', '/v2/workflows/dlq?count=3');
    expect(first.body.cursor).toBe('3');
    em.remove('workflow', ids.slice(0, 3));
    const second = await call(em, 'GET', `/v2/workflows/dlq?count=3&cursor=${first.body.cursor}`);
    expect(second.body.messages.map((m: { dlqId: string }) => m.dlqId)).toEqual(ids.slice(6, 9));
    expect(second.body.cursor).toBeUndefined();
  });

  it("'position': a bulk delete by filter and a bulk retry that follow the cursor leave entries behind", async () => {
    const em = await start({ cursor: 'position' });
    const ids = em.seed('workflow', workflowEntries(6));
    let cursor: string | undefined;
    do {
      const answer = await call(em, 'DELETE', `/v2/workflows/dlq?count=2${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = answer.body.cursor;
    } while (cursor);
    expect(em.ids('workflow')).toEqual([ids[2], ids[3]]);
    const messages = em.seed('qstash', messageEntries(6));
    cursor = undefined;
    do {
      const answer = await call(em, 'POST', `/v2/dlq/retry?count=3${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = answer.body.cursor;
    } while (cursor);
    expect(em.ids('qstash')).toEqual(messages.slice(3));
  });

  it("'position' with redriveRemoves: a bulk restart by filter skips entries too", async () => {
    const em = await start({ cursor: 'position', redriveRemoves: { workflow: true } });
    em.seed('workflow', workflowEntries(100));
    let cursor: string | undefined;
    do {
      const answer = await call(em, 'POST', `/v2/workflows/dlq/restart${cursor ? `?cursor=${cursor}` : ''}`);
      cursor = answer.body.cursor;
    } while (cursor);
    expect(em.reruns).toHaveLength(50);
    expect(em.ids('workflow')).toHaveLength(50);
  });

  it('count is honoured and clamped to 1..100 in both modes', async () => {
    for (const cursor of ['id', 'position'] as const) {
      const em = await start({ cursor });
      em.seed('workflow', workflowEntries(150));
      const sizes = [];
      for (const count of ['1', '7', '100', '500', '0', 'x']) {
        sizes.push((await call(em, 'GET', `/v2/workflows/dlq?count=${count}`)).body.messages.length);
      }
      expect(sizes, cursor).toEqual([1, 7, 100, 100, 100, 100]);
      const page = await call(em, 'GET', '/v2/workflows/dlq?count=100');
      const last = await call(em, 'GET', `/v2/workflows/dlq?count=100&cursor=${page.body.cursor}`);
      expect(last.body.messages).toHaveLength(50);
      expect(last.body.cursor).toBeUndefined();
      await em.close();
      emulator = undefined;
    }
  });
});

describe('faults on redrive routes', () => {
  it('a scripted status, matched by id, answers instead and re-runs nothing', async () => {
    const em = await start();
    const [a, b] = em.seed('workflow', workflowEntries(2));
    em.faults.push({ method: 'POST', id: a, status: 503, body: '<html>busy</html>', times: 1 });
    expect((await call(em, 'POST', `/v2/workflows/dlq/restart/${b}`)).status).toBe(200);
    const faulted = await fetch(`${em.url}/v2/workflows/dlq/restart/${a}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${em.token}` },
    });
    expect(faulted.status).toBe(503);
    expect(await faulted.text()).toBe('<html>busy</html>');
    expect((await call(em, 'POST', `/v2/workflows/dlq/restart/${a}`)).status).toBe(200);
    expect(em.reruns.map((r) => r.dlqId)).toEqual([b, a]);
  });

  it("drop: 'after' — the re-run happened but no answer came", async () => {
    const em = await start();
    const [id] = em.seed('qstash', messageEntries(1));
    em.faults.push({ id, drop: 'after', times: 1 });
    await expect(call(em, 'POST', `/v2/dlq/retry/${id}`)).rejects.toThrow();
    expect(em.reruns.map((r) => r.dlqId)).toEqual([id]);
    expect(em.has('qstash', id!)).toBe(false);
    expect(em.requests.map((r) => r.result)).toEqual(['dropped']);
    expect((await call(em, 'POST', `/v2/dlq/retry/${id}`)).status).toBe(404);
  });

  it("drop: 'before' — nothing re-run", async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(3));
    em.faults.push({ method: 'POST', pathIncludes: '/dlq/resume', drop: 'before', times: 1 });
    await expect(call(em, 'POST', `/v2/workflows/dlq/resume?${idsQuery(ids)}`)).rejects.toThrow();
    expect(em.reruns).toEqual([]);
  });

  it("hang: 'after' — the bulk re-run happened, the answer never comes", async () => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(3));
    em.faults.push({ method: 'POST', pathIncludes: '/dlq/restart', hang: 'after', times: 1 });
    await expect(
      call(em, 'POST', `/v2/workflows/dlq/restart?${idsQuery(ids)}`, {}, { signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect(em.reruns.map((r) => r.dlqId)).toEqual(ids);
    expect(em.count('hung')).toBe(1);
  });

  it('callback under a delay fault still answers', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    em.faults.push({ pathIncludes: '/callback/', delayMs: 50 });
    const started = Date.now();
    expect((await call(em, 'POST', `/v2/workflows/dlq/callback/${id}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('transport', () => {
  it('serves HTTPS with tls', async (context) => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-tls-'));
    try {
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-keyout',
            join(dir, 'key.pem'),
            '-out',
            join(dir, 'cert.pem'),
            '-days',
            '1',
            '-subj',
            '/CN=127.0.0.1',
            '-addext',
            'subjectAltName=IP:127.0.0.1',
          ],
          { stdio: 'ignore' },
        );
      } catch {
        context.skip('openssl is not available');
        return;
      }
      const cert = readFileSync(join(dir, 'cert.pem'));
      const em = await start({ tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
      expect(em.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const [id] = em.seed('workflow', workflowEntries(1));
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          `${em.url}/v2/workflows/dlq/restart/${id}`,
          { method: 'POST', ca: cert, headers: { authorization: `Bearer ${em.token}` } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body).workflowRunId).toMatch(/^wfr_rerun_/);
      await expect(fetch(`${em.url}/v2/workflows/dlq`)).rejects.toThrow(); // untrusted certificate
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes idle keep-alive connections after keepAliveTimeoutMs (the default keeps them open)', async () => {
    // A raw socket, so that only the server can close it (an http.Agent would act on the Keep-Alive hint itself).
    const idleFor = async (em: DlqEmulator, waitMs: number): Promise<'closed' | 'open'> => {
      const socket = connect(Number(new URL(em.url).port), '127.0.0.1');
      try {
        const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
        socket.write(
          `GET /v2/workflows/dlq HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${em.token}\r\nConnection: keep-alive\r\n\r\n`,
        );
        await answered;
        socket.resume();
        const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
        return await Promise.race([closed, sleep(waitMs).then(() => 'open' as const)]);
      } finally {
        socket.destroy();
      }
    };
    const started = Date.now();
    expect(await idleFor(await start({ keepAliveTimeoutMs: 100 }), 900)).toBe('closed');
    expect(Date.now() - started).toBeLessThan(900);
    await expect.poll(() => emulator!.openConnections).toBe(0);
    await emulator!.close();
    expect(await idleFor(await start(), 600)).toBe('open');
  });
});

describe('cli', () => {
  it('starts with the new flags, seeds both DLQs and serves until SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../../emulator/cli.ts'),
        '--seed',
        '3',
        '--ids-file',
        join(dir, 'ids.txt'),
        '--seed-qstash',
        '2',
        '--qstash-ids-file',
        join(dir, 'qstash.txt'),
        '--cursor',
        'position',
        '--redrive-removes',
        '--token',
        'cli-token',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = /listening on (\S+) with 3 workflow DLQ entries and 2 message DLQ entries/.exec(out);
          if (found) resolve(found[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const ids = readFileSync(join(dir, 'ids.txt'), 'utf8').trim().split('\n');
      expect(ids).toHaveLength(3);
      expect(readFileSync(join(dir, 'qstash.txt'), 'utf8').trim().split('\n')).toHaveLength(2);
      const auth = { authorization: 'Bearer cli-token' };
      const restart = await fetch(`${url}/v2/workflows/dlq/restart/${ids[0]}`, { method: 'POST', headers: auth });
      expect(restart.status).toBe(200);
      const gone = await fetch(`${url}/v2/workflows/dlq/${ids[0]}`, { headers: auth });
      expect(gone.status).toBe(404); // --redrive-removes
      const page = (await (await fetch(`${url}/v2/workflows/dlq?count=1`, { headers: auth })).json()) as {
        cursor?: string;
      };
      expect(page.cursor).toBe('1'); // --cursor position
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
