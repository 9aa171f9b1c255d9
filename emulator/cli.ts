/**
 * Runs the emulator as a process: `node emulator/cli.ts [--port 8080] [--seed 50] [--ids-file ids.txt]
 * [--latency 25] [--rate-limit 100] [--token T]`. Prints its URL, then serves until stopped.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_TOKEN, DlqEmulator, workflowEntries } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    seed: { type: 'string', default: '0' },
    'ids-file': { type: 'string' },
    latency: { type: 'string', default: '0' },
    'rate-limit': { type: 'string' },
    token: { type: 'string', default: DEFAULT_TOKEN },
  },
});

const emulator = await DlqEmulator.start({
  port: Number(values.port),
  token: values.token,
  latencyMs: Number(values.latency),
  ...(values['rate-limit'] && { rateLimit: { limit: Number(values['rate-limit']) } }),
});
const ids = emulator.seed('workflow', workflowEntries(Number(values.seed)));
if (values['ids-file']) writeFileSync(values['ids-file'], `${ids.join('\n')}\n`);
console.log(`QStash DLQ emulator listening on ${emulator.url} with ${ids.length} workflow DLQ entries`);

const stop = (): void => void emulator.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
