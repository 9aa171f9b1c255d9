import { describe, expect, it } from 'vitest';
import { operationFor } from '../../src/operations.js';
import { entryInfo, isListedEntry } from '../../src/qstash/listing.js';

describe('entryInfo: a listed entry as the engine sees it', () => {
  it('keeps what people recognise an entry by, whichever DLQ it comes from', () => {
    expect(
      entryInfo({
        dlqId: 'd1',
        workflowUrl: 'https://app/wf',
        workflowRunId: 'wfr_1',
        createdAt: '1752829295505',
        responseStatus: 500,
        body: 'secret',
      }),
    ).toEqual({
      dlqId: 'd1',
      url: 'https://app/wf',
      runOrMessageId: 'wfr_1',
      createdAt: 1752829295505,
      responseStatus: 500,
    });
    expect(entryInfo({ dlqId: 'd2', url: 'https://app/api', messageId: 'msg_1' })).toEqual({
      dlqId: 'd2',
      url: 'https://app/api',
      runOrMessageId: 'msg_1',
    });
  });

  it('treats every field as optional and drops unusable values', () => {
    expect(entryInfo({ dlqId: 'd3', url: '', createdAt: 'soon', responseStatus: null })).toEqual({ dlqId: 'd3' });
  });

  it('only records with a string dlqId are entries', () => {
    expect([{ dlqId: 'a' }, { dlqId: 1 }, null, 'a', {}].map(isListedEntry)).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('the delete operation reads its bulk answers', () => {
  it('a count, or none', () => {
    const bulk = operationFor('delete', 'workflow').bulk!;
    expect(bulk.read('{"deleted":3}')).toEqual({ count: 3, ignoredIds: false });
    expect(bulk.read('{"deleted":-1}')).toEqual({ ignoredIds: false });
    expect(bulk.read('<html>')).toEqual({ ignoredIds: false });
  });

  it('a Workflow DLQ answer with a cursor means the server ignored dlqIds; the QStash DLQ documents no such rule', () => {
    expect(operationFor('delete', 'workflow').bulk!.read('{"deleted":2,"cursor":"x"}')).toEqual({
      count: 2,
      ignoredIds: true,
    });
    expect(operationFor('delete', 'workflow').bulk!.read('{"deleted":2,"cursor":""}').ignoredIds).toBe(false);
    expect(operationFor('delete', 'qstash').bulk!.read('{"deleted":2,"cursor":"x"}').ignoredIds).toBe(false);
  });
});
