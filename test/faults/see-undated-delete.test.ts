import { describe, expect, it } from 'vitest';
import { DlqStore } from '../../emulator/store.ts';
import { workflowEntries, type DlqEntry } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();
const DAY = 86_400_000;

describe('see the DLQ, second read: a server that ignores the dates, and entries without createdAt', () => {
  it('older-than: 7d must not delete entries whose age is unknown that a date-ignoring server listed', async () => {
    const e = await start();
    const now = Date.now();
    const old = workflowEntries(3, {}, now - 30 * DAY);
    const recent = workflowEntries(3, {}, now).map((x, i) => {
      const copy: Partial<DlqEntry> = { ...x, dlqId: `undated-${i}` };
      delete copy.createdAt;
      return copy as DlqEntry;
    });
    e.seed('workflow', [...old, ...recent]);
    const ignoring = new DlqStore();
    ignoring.seed('workflow', [...old, ...recent]);
    e.faults.push({
      method: 'GET',
      pathIncludes: '/v2/workflows/dlq?',
      status: 200,
      body: (url) => {
        const params = new URLSearchParams(url.search);
        params.delete('fromDate');
        params.delete('toDate');
        const page = ignoring.page('workflow', params, Number(params.get('count') ?? 100), 'id');
        return JSON.stringify({ messages: page.entries, ...(page.cursor && { cursor: page.cursor }) });
      },
    });
    const run = await runAgainst(e, { inputs: { 'older-than': '7d', 'max-entries': '0' } });
    expect(e.ids('workflow').filter((id) => id.startsWith('undated-'))).toHaveLength(3);
    expect(list(run, 'removed').some((id) => id.startsWith('undated-'))).toBe(false);
  });
});
