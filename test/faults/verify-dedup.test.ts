/**
 * Review of issue 18: the retry answer's `deduplicated`. dedup.ts reads a value other than true/false as
 * 'unreadable' ("the answer cannot say either: claim nothing"), but operations.ts only acts on 'deduplicated' and
 * falls through to "done": `deduplicated: 1` or `"yes"` counts as a redrive.
 */
import { describe, expect, it } from 'vitest';
import { messageEntries } from '../../emulator/server.ts';
import { emulatorPerTest, list, runAgainst } from '../helpers/e2e.ts';

const start = emulatorPerTest();

describe('a retry answer whose deduplicated is neither true nor false', () => {
  for (const value of [1, 'yes']) {
    it(`deduplicated: ${JSON.stringify(value)} is not claimed as a redrive`, async () => {
      const e = await start();
      const ids = e.seed('qstash', messageEntries(2));
      e.faults.push({
        method: 'POST',
        id: ids[0],
        times: 1,
        status: 201,
        body: JSON.stringify({ messageId: 'msg_old', deduplicated: value }),
      });
      const run = await runAgainst(e, { inputs: { operation: 'retry', dlq: 'qstash', 'dlq-ids': ids.join('\n') } });
      expect(list(run, 'redriven')).toEqual([ids[1]]);
      expect(list(run, 'failed')).toEqual([ids[0]]);
    });
  }
});
