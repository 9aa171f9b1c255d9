/**
 * Runs the emulator as a process: `node emulator/cli.ts [--port 8080] [--seed 50] [--ids-file ids.txt]
 * [--seed-qstash 20] [--qstash-ids-file ids.txt] [--latency 25] [--rate-limit 100] [--token T] [--read-only-token R]
 * [--cursor id|position] [--redrive-removes] [--redrive-missing reject|partial|ignore]
 * [--keep-alive-timeout ms] [--tls-key key.pem --tls-cert cert.pem]`.
 * Prints its URL and its read-only token, then serves until stopped.
 *
 * --seed N / --ids-file: N Workflow DLQ entries, their ids written one a line. --seed-qstash N / --qstash-ids-file: the
 * same for the message DLQ. --redrive-removes: a restarted or resumed Workflow DLQ entry leaves the DLQ (undocumented;
 * by default it stays). --cursor position: offset cursors (pages shift under deletions). --read-only-token: the token
 * that may only GET (every other request with it is a 403, as Upstash answers it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DEFAULT_READONLY_TOKEN,
  DEFAULT_TOKEN,
  DlqEmulator,
  messageEntries,
  workflowEntries,
  type RedriveMissing,
} from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    seed: { type: 'string', default: '0' },
    'ids-file': { type: 'string' },
    'seed-qstash': { type: 'string', default: '0' },
    'qstash-ids-file': { type: 'string' },
    latency: { type: 'string', default: '0' },
    'rate-limit': { type: 'string' },
    token: { type: 'string', default: DEFAULT_TOKEN },
    'read-only-token': { type: 'string', default: DEFAULT_READONLY_TOKEN },
    cursor: { type: 'string', default: 'id' },
    'redrive-removes': { type: 'boolean', default: false },
    'redrive-missing': { type: 'string', default: 'reject' },
    'keep-alive-timeout': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cert': { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`emulator: ${message}`);
  process.exit(2);
}

const count = (flag: string, value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) fail(`--${flag} must be a non-negative integer, got "${value}"`);
  return number;
};

if (values.cursor !== 'id' && values.cursor !== 'position') fail(`--cursor must be id or position`);
if (!['reject', 'partial', 'ignore'].includes(values['redrive-missing'])) {
  fail('--redrive-missing must be reject, partial or ignore');
}
if (values['read-only-token'] === values.token) fail('--read-only-token must differ from --token');
if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) fail('--tls-key needs --tls-cert');

const emulator = await DlqEmulator.start({
  port: count('port', values.port),
  token: values.token,
  readOnlyToken: values['read-only-token'],
  latencyMs: count('latency', values.latency),
  cursor: values.cursor,
  redriveRemoves: { workflow: values['redrive-removes'] },
  redriveMissing: values['redrive-missing'] as RedriveMissing,
  ...(values['rate-limit'] && { rateLimit: { limit: count('rate-limit', values['rate-limit']) } }),
  ...(values['keep-alive-timeout'] && {
    keepAliveTimeoutMs: count('keep-alive-timeout', values['keep-alive-timeout']),
  }),
  ...(values['tls-key'] &&
    values['tls-cert'] && { tls: { key: readFileSync(values['tls-key']), cert: readFileSync(values['tls-cert']) } }),
});
const ids = emulator.seed('workflow', workflowEntries(count('seed', values.seed)));
if (values['ids-file']) writeFileSync(values['ids-file'], `${ids.join('\n')}\n`);
const messageIds = emulator.seed('qstash', messageEntries(count('seed-qstash', values['seed-qstash'])));
if (values['qstash-ids-file']) writeFileSync(values['qstash-ids-file'], `${messageIds.join('\n')}\n`);
console.log(
  `QStash DLQ emulator listening on ${emulator.url} with ${ids.length} workflow DLQ entries` +
    (messageIds.length > 0 ? ` and ${messageIds.length} message DLQ entries` : ''),
);
console.log(`Read-only token (GET only): ${emulator.readOnlyToken}`);

const stop = (): void => void emulator.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
