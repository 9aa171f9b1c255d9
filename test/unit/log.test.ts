import { describe, expect, it } from 'vitest';
import { DeferredLog, type LogSink } from '../../src/log.js';

function recorder(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    setSecret: (s) => lines.push(`::add-mask::${s}`),
    info: (m) => lines.push(m),
    debug: (m) => lines.push(`::debug::${m}`),
    warning: (m) => lines.push(`::warning::${m}`),
    notice: (m) => lines.push(`::notice::${m}`),
    startGroup: (n) => lines.push(`::group::${n}`),
    endGroup: () => lines.push('::endgroup::'),
  };
}

describe('DeferredLog', () => {
  it('prints nothing before attach, then everything in order, the mask first', () => {
    const log = new DeferredLog();
    log.setSecret('s3cret');
    log.startGroup('Settings');
    log.info('a');
    log.endGroup();
    log.warning('w');
    const sink = recorder();
    expect(log.attached).toBe(false);
    log.attach(sink);
    log.notice('after');
    expect(sink.lines).toEqual([
      '::add-mask::s3cret',
      '::group::Settings',
      'a',
      '::endgroup::',
      '::warning::w',
      '::notice::after',
    ]);
  });

  it('attaches once', () => {
    const log = new DeferredLog();
    const first = recorder();
    const second = recorder();
    log.attach(first);
    log.attach(second);
    log.info('x');
    expect(first.lines).toEqual(['x']);
    expect(second.lines).toEqual([]);
  });
});
