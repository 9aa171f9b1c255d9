/**
 * The emulator's read-only token (GETs served, every other method refused with Upstash's 403, nothing changed) and
 * entries carrying the fields the report groups by and the export writes, as Upstash's OpenAPI documents name them,
 * with the filters matching those fields (`callerIp` against `callerIP`, `label` against `labels`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DEFAULT_READONLY_TOKEN,
  DETAILED_VALUES,
  DlqEmulator,
  READONLY_REFUSAL,
  detailedMessageEntries,
  detailedWorkflowEntries,
  workflowEntries,
  type DlqKind,
} from '../../emulator/server.ts';
import { afterThisTest } from '../helpers/loopback.ts';

async function start(): Promise<DlqEmulator> {
  const em = await DlqEmulator.start();
  afterThisTest(() => em.close());
  return em;
}

async function call(em: DlqEmulator, method: string, path: string, token: string) {
  const response = await fetch(`${em.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('the read-only token', () => {
  it('is accepted for every GET: an entry, a listing, the message DLQ', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(2));
    const [message] = em.seed('qstash', detailedMessageEntries(1));
    const ro = em.readOnlyToken;
    expect(ro).toBe(DEFAULT_READONLY_TOKEN);
    expect((await call(em, 'GET', `/v2/workflows/dlq/${id}`, ro)).status).toBe(200);
    const page = await call(em, 'GET', '/v2/workflows/dlq?count=10', ro);
    expect(page).toMatchObject({ status: 200, body: { messages: [{ dlqId: id }, {}] } });
    expect((await call(em, 'GET', `/v2/dlq/${message}`, ro)).status).toBe(200);
    expect(em.requests.every((r) => r.readOnly && !r.authorized)).toBe(true);
  });

  it.each([
    ['DELETE', (id: string) => `/v2/workflows/dlq/${id}`],
    ['DELETE', (id: string) => `/v2/workflows/dlq?dlqIds=${id}`],
    ['DELETE', () => '/v2/workflows/dlq'],
    ['POST', (id: string) => `/v2/workflows/dlq/restart/${id}`],
    ['POST', (id: string) => `/v2/workflows/dlq/resume/${id}`],
    ['POST', (id: string) => `/v2/workflows/dlq/callback/${id}`],
    ['POST', () => '/v2/workflows/dlq/restart'],
  ])('refuses %s %s with a 403 and a JSON error, changing nothing', async (method, path) => {
    const em = await start();
    const ids = em.seed('workflow', workflowEntries(2));
    const answer = await call(em, method, path(ids[0]!), em.readOnlyToken);
    expect(answer).toEqual({ status: 403, body: READONLY_REFUSAL });
    expect(em.ids('workflow')).toEqual(ids);
    expect(em.reruns).toEqual([]);
    expect(em.requests).toMatchObject([{ method, result: 403, readOnly: true, authorized: false }]);
  });

  it('refuses message DLQ changes too (delete, retry, bulk retry)', async () => {
    const em = await start();
    const ids = em.seed('qstash', detailedMessageEntries(2));
    for (const [method, path] of [
      ['DELETE', `/v2/dlq/${ids[0]}`],
      ['DELETE', `/v2/dlq?dlqIds=${ids[0]}`],
      ['POST', `/v2/dlq/retry/${ids[0]}`],
      ['POST', `/v2/dlq/retry?dlqIds=${ids[1]}`],
    ] as const) {
      expect((await call(em, method, path, em.readOnlyToken)).status).toBe(403);
    }
    expect(em.ids('qstash')).toEqual(ids);
    expect(em.reruns).toEqual([]);
  });

  it('the full token still changes, and an unknown token is still a 401', async () => {
    const em = await start();
    const [id] = em.seed('workflow', workflowEntries(1));
    expect((await call(em, 'GET', `/v2/workflows/dlq/${id}`, 'nope')).status).toBe(401);
    expect((await call(em, 'DELETE', `/v2/workflows/dlq/${id}`, 'nope')).status).toBe(401);
    expect((await call(em, 'DELETE', `/v2/workflows/dlq/${id}`, em.token)).status).toBe(200);
    expect(em.requests.map((r) => [r.authorized, r.readOnly])).toEqual([
      [false, false],
      [false, false],
      [true, false],
    ]);
  });

  it('may be set, and must differ from the token', async () => {
    const em = await DlqEmulator.start({ readOnlyToken: 'ro-custom' });
    afterThisTest(() => em.close());
    expect(em.readOnlyToken).toBe('ro-custom');
    await expect(DlqEmulator.start({ token: 'same', readOnlyToken: 'same' })).rejects.toThrow(/differ/u);
  });

  it('the CLI accepts --read-only-token and prints it', async () => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '../../emulator/cli.ts'), '--seed', '1', '--read-only-token', 'cli-ro-token'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    afterThisTest(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /listening on (\S+) [\s\S]*Read-only token \(GET only\): cli-ro-token/u.exec(out);
        if (found) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const auth = { authorization: 'Bearer cli-ro-token' };
    expect((await fetch(`${url}/v2/workflows/dlq`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/v2/workflows/dlq`, { method: 'DELETE', headers: auth })).status).toBe(403);
  });
});

/** The property names of a schema in one of Upstash's OpenAPI documents. */
function documented(file: string, schema: string): Set<string> {
  const text = readFileSync(join(import.meta.dirname, '../../../shared/reference/openapi', file), 'utf8');
  const doc = parse(text) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
  return new Set(Object.keys(doc.components.schemas[schema]!.properties));
}

/**
 * Fields the documents' schemas leave out: the emulator's own (store.ts), `failureCallbackInfo` (named in the
 * Workflow document's prose and the SDK's types, not in its schema), and the message DLQ's `dlqId`, which every
 * listed entry carries (the listing's and the delete's own parameters are dlqIds) though DLQMessage omits it.
 */
const UNLISTED = new Set(['resumable', 'restartable', 'failureCallbackInfo', 'dlqId']);

describe('detailed entries', () => {
  it.each<[DlqKind, string, string, () => Record<string, unknown>[]]>([
    ['workflow', 'workflow-openapi.yaml', 'WorkflowDLQMessage', () => detailedWorkflowEntries(12)],
    ['qstash', 'qstash-openapi.yaml', 'DLQMessage', () => detailedMessageEntries(12)],
  ])('%s: carry only fields the OpenAPI document names', (_dlq, file, schema, make) => {
    const names = documented(file, schema);
    for (const entry of make()) {
      for (const key of Object.keys(entry)) if (!UNLISTED.has(key)) expect(names, key).toContain(key);
    }
  });

  it('carry every field the report groups by, with several values each, and some entries without', () => {
    const workflow = detailedWorkflowEntries(12);
    const values = (entries: Record<string, unknown>[], field: string) =>
      new Set(entries.map((entry) => JSON.stringify(entry[field])));
    for (const field of ['workflowUrl', 'url', 'labels', 'responseStatus', 'failureFunctionState', 'flowControlKey']) {
      expect(values(workflow, field).size, field).toBeGreaterThan(1);
    }
    expect(values(workflow, 'callerIP').size).toBe(DETAILED_VALUES.callerIP.length);
    expect(workflow.some((entry) => entry.labels === undefined)).toBe(true);
    expect(workflow.some((entry) => entry.failureFunctionState === undefined)).toBe(true);
    for (const entry of workflow) {
      if (entry.failureFunctionState !== undefined) {
        expect(entry.failureCallbackInfo).toMatchObject({ state: entry.failureFunctionState });
      }
    }
    const messages = detailedMessageEntries(12);
    for (const field of ['url', 'labels', 'responseStatus', 'flowControlKey', 'topicName', 'queueName', 'callerIP']) {
      expect(values(messages, field).size, field).toBeGreaterThan(1);
    }
    for (const entry of [...workflow, ...messages]) {
      expect(Object.keys(entry)).toEqual(expect.arrayContaining(['header', 'responseHeader', 'body', 'responseBody']));
    }
  });

  it('the callerIp filter matches the callerIP field; label matches labels and the deprecated label', async () => {
    const em = await start();
    em.seed('workflow', detailedWorkflowEntries(6));
    em.seed('qstash', detailedMessageEntries(6));
    const listed = async (path: string) =>
      ((await call(em, 'GET', path, em.token)).body as { messages: { dlqId: string }[] }).messages.length;
    expect(await listed('/v2/workflows/dlq?callerIp=203.0.113.7')).toBe(3);
    expect(await listed('/v2/dlq?callerIp=198.51.100.2')).toBe(3);
    expect(await listed('/v2/workflows/dlq?label=eu')).toBe(2);
    expect(await listed('/v2/dlq?label=prod')).toBe(4);
    em.seed('qstash', [{ dlqId: 'old-style', createdAt: 1, label: 'legacy' }]);
    expect(await listed('/v2/dlq?label=legacy')).toBe(1);
  });
});
