/**
 * `npm run bench`: wall time of the bundled action against the loopback emulator, as a runner runs it.
 * Options: --ids 1000 --latency 25 --runs 3 --concurrency <action default>.
 */
import { parseArgs } from 'node:util';
import { runAction } from '../emulator/run-action.ts';
import { DlqEmulator, workflowEntries } from '../emulator/server.ts';

const { values } = parseArgs({
  options: {
    ids: { type: 'string', default: '1000' },
    latency: { type: 'string', default: '25' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string' },
  },
});
const idCount = Number(values.ids);
const latencyMs = Number(values.latency);
const runs = Number(values.runs);

const times: number[] = [];
let requests = 0;
let confirmed = 0;
for (let run = 0; run < runs; run += 1) {
  const emulator = await DlqEmulator.start({ latencyMs });
  try {
    const ids = emulator.seed('workflow', workflowEntries(idCount));
    const result = await runAction({
      inputs: {
        'dlq-ids': ids.join('\n'),
        'qstash-url': emulator.url,
        'qstash-token': emulator.token,
        ...(values.concurrency && { concurrency: values.concurrency }),
      },
      timeoutMs: 600_000,
    });
    if (result.exitCode !== 0) throw new Error(`the action failed:\n${result.stdout}`);
    times.push(result.durationMs);
    requests = emulator.requests.length;
    confirmed = Number(result.outputs['removed-count']);
  } finally {
    await emulator.close();
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(`${idCount} ids, ${latencyMs} ms emulated latency, ${runs} runs (node ${process.version})`);
console.log(`| tool | wall time (median) | requests | ids confirmed |`);
console.log(`|---|---:|---:|---:|`);
console.log(`| this action (dist/index.js) | ${(median / 1000).toFixed(2)} s | ${requests} | ${confirmed} |`);
