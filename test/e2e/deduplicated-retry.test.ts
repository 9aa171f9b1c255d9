/**
 * End to end, through dist/index.js: a QStash DLQ retry answered 201 with `deduplicated: true` (the old message id,
 * nothing delivered) is not a redrive: the id is not in `redriven`, it is `failed` with a reason that says so, and it
 * is never resent.
 *
 * PENDING WIRING: src/dedup.ts recognises the answer; src/operations.ts does not use it yet (issue 18, the lead wires
 * it). Until then the bundle claims the id redriven, and this test is marked `fails`; drop `.fails` when wiring.
 */
import { describe, expect, it } from 'vitest';
import { messageEntries } from '../../emulator/server.ts';
import { emulatorPerTest, expectExactlyOnce, expectNoTokenLeak, list, runAgainst } from '../helpers/e2e.ts';

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
    expect(run.stdout + run.stderr).toMatch(/deduplicated/);
    expect(e.rerunsOf('qstash', ids[1]!)).toHaveLength(1);
    expectNoTokenLeak(run, e.token);
  });
});
