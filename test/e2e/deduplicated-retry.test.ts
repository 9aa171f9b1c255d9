/**
 * End to end, through dist/index.js: a QStash DLQ retry answered 201 with `deduplicated: true` (the old message id,
 * nothing delivered) is not a redrive: the id is not in `redriven`, it is `failed` with a reason that says so, and it
 * is never resent.
 */
import { describe, expect, it } from 'vitest';
import { messageEntries } from '../../emulator/server.ts';
import { emulatorPerTest, errors, expectExactlyOnce, expectNoTokenLeak, list, runAgainst } from '../helpers/e2e.ts';
import { object } from '../helpers/verify.ts';

const start = emulatorPerTest();

describe('a deduplicated retry', () => {
  it('is failed with its own reason, not redriven, and not resent', async () => {
    const e = await start();
    const ids = e.seed('qstash', messageEntries(3));
    e.retryDeduplicates = (dlqId) => dlqId === ids[1];
    const run = await runAgainst(e, { inputs: { dlq: 'qstash', operation: 'retry', 'dlq-ids': ids.join('\n') } });
    expectExactlyOnce(run, ids);
    expect(list(run, 'failed')).toEqual([ids[1]]);
    expect(list(run, 'redriven')).toEqual([ids[0], ids[2]]);
    expect(run.exitCode).toBe(1);
    expect(object(run, 'failed-causes')).toEqual({ [ids[1]!]: 'deduplicated' });
    expect(run.results?.find((r) => r.id === ids[1])).toMatchObject({ outcome: 'failed', cause: 'deduplicated' });
    expect(Object.keys(object(run, 'new-runs'))).toEqual([ids[0], ids[2]]);
    // The error gives the reason: QStash deduplicated the retry, nothing was delivered.
    expect(
      errors(run).some((m) => m.includes(ids[1]!) && /deduplicated/u.test(m)),
      run.stdout,
    ).toBe(true);
    // Sent once, never again; the entry is still in the DLQ (nothing replaced it), the others left it.
    expect(e.rerunsOf('qstash', ids[1]!)).toHaveLength(1);
    expect(e.ids('qstash')).toEqual([ids[1]]);
    expectNoTokenLeak(run, e.token);
  });
});
