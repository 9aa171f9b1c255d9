/** A QStash retry answered `deduplicated: true` (src/dedup.ts) is recognised. */
import { describe, expect, it } from 'vitest';
import { deduplicatedReason, readRetryAnswer } from '../../src/dedup.ts';

describe('deduplicated retry answers', () => {
  it('deduplicated: true is the old message, nothing delivered', () => {
    expect(readRetryAnswer('{"messageId":"msg_old","deduplicated":true}')).toEqual({
      kind: 'deduplicated',
      messageId: 'msg_old',
    });
    expect(readRetryAnswer('{"messageId":"msg_old","deduplicated":"true"}').kind).toBe('deduplicated');
  });

  it('absent or false is a new message', () => {
    expect(readRetryAnswer('{"messageId":"msg_new"}')).toEqual({ kind: 'redriven', messageId: 'msg_new' });
    expect(readRetryAnswer('{"messageId":"msg_new","deduplicated":false}').kind).toBe('redriven');
  });

  it('anything else claims nothing', () => {
    for (const body of ['', 'not json', '[]', 'null', '{}', '{"messageId":""}', '{"messageId":"m","deduplicated":1}']) {
      expect(readRetryAnswer(body).kind, body).toBe('unreadable');
    }
  });

  it('the reason says what happened and that it was not resent', () => {
    expect(deduplicatedReason('msg_old')).toMatch(/deduplicated: true.*msg_old.*nothing was delivered.*not resent/);
  });
});
