/**
 * `npm run bench`: the action against the usual ways of doing the same job, each against a fresh loopback emulator,
 * side by side in one run. Every tool runs as its own process, the way it would in a pipeline step.
 *
 *   npm run bench                 # the full run (about 5 minutes: the curl and fetch loops are slow)
 *   npm run bench -- --quick      # a smoke run: 100 ids, 1 run each
 *   options: --ids 1000 --latency 25 --runs 3 --memory-ids 20000
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, runAction } from '../emulator/run-action.ts';
import { DlqEmulator, workflowEntries, type EmulatorOptions } from '../emulator/server.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ids: { type: 'string' },
    latency: { type: 'string', default: '25' },
    runs: { type: 'string' },
    'memory-ids': { type: 'string' },
  },
});
const IDS = Number(values.ids ?? (values.quick ? 100 : 1000));
const LATENCY = Number(values.latency);
const RUNS = Number(values.runs ?? (values.quick ? 1 : 3));
const work = mkdtempSync(join(tmpdir(), 'dlq-bench-'));

interface Measure {
  ms: number;
  requests: number;
  confirmed: string;
  extra?: string;
}

/** Seeds a fresh emulator, writes the ids to delete, runs the tool, and returns what it measured. */
async function measure(
  tool: (emulator: DlqEmulator, idsFile: string, ids: string[]) => Promise<{ confirmed: string; extra?: string }>,
  setup: { present: number; missing?: number; emulator?: EmulatorOptions },
): Promise<Measure> {
  const emulator = await DlqEmulator.start({ latencyMs: LATENCY, ...setup.emulator });
  try {
    const present = emulator.seed('workflow', workflowEntries(setup.present));
    const missing = Array.from({ length: setup.missing ?? 0 }, (_, i) => `${Date.now() - 9e9}-missing-${i}`);
    // Interleaved, so that no strategy can profit from the order.
    const ids = present.flatMap((id, i) => (i < missing.length ? [id, missing[i]!] : [id]));
    const idsFile = join(work, 'ids.txt');
    writeFileSync(idsFile, `${ids.join('\n')}\n`);
    const started = performance.now();
    const result = await tool(emulator, idsFile, ids);
    return { ms: performance.now() - started, requests: emulator.requests.length, ...result };
  } finally {
    await emulator.close();
  }
}

async function median(runs: number, once: () => Promise<Measure>): Promise<Measure> {
  const all: Measure[] = [];
  for (let i = 0; i < runs; i += 1) all.push(await once());
  all.sort((a, b) => a.ms - b.ms);
  return all[Math.floor(all.length / 2)]!;
}

function exec(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err}`))));
  });
}

const tools = {
  action:
    (inputs: Record<string, string> = {}) =>
    async (emulator: DlqEmulator, idsFile: string) => {
      const run = await runAction({
        inputs: { 'dlq-ids-file': idsFile, 'qstash-url': emulator.url, 'qstash-token': emulator.token, ...inputs },
        timeoutMs: 600_000,
      });
      if (run.exitCode !== 0 && run.outputs['failed-count'] !== '0')
        throw new Error(`the action failed:\n${run.stdout}`);
      return {
        confirmed: `${run.outputs['removed-count']} removed, ${run.outputs['not-found-count']} not found`,
        extra: run.outputs['failed-count'],
      };
    },
  fetchLoop: async (emulator: DlqEmulator, idsFile: string) => {
    const out = await exec(process.execPath, [join(ROOT, 'bench/tools/fetch-loop.ts'), idsFile], env(emulator));
    const parsed = JSON.parse(out) as { confirmed: number; notFound: number };
    return { confirmed: `${parsed.confirmed} removed, ${parsed.notFound} not found` };
  },
  curlLoop: async (emulator: DlqEmulator, idsFile: string) => {
    const out = await exec('bash', [join(ROOT, 'bench/tools/curl-loop.sh'), idsFile], env(emulator));
    return { confirmed: `${(JSON.parse(out) as { confirmed: number }).confirmed} removed` };
  },
  official: async (emulator: DlqEmulator, idsFile: string) => {
    const out = await exec(process.execPath, [join(ROOT, 'bench/tools/official-client.ts'), idsFile], env(emulator));
    return { confirmed: `count only: ${(JSON.parse(out) as { deletedCount: number }).deletedCount} deleted` };
  },
};

function env(emulator: DlqEmulator): Record<string, string> {
  return { QSTASH_URL: emulator.url, QSTASH_TOKEN: emulator.token };
}

function table(title: string, rows: [string, Measure][], baseline: number): void {
  console.log(`\n### ${title}\n`);
  console.log("| tool | wall time (median) | requests | ids confirmed | × the action's time |");
  console.log('|---|---:|---:|---|---:|');
  for (const [name, m] of rows) {
    console.log(
      `| ${name} | ${(m.ms / 1000).toFixed(2)} s | ${m.requests} | ${m.confirmed} | ${(m.ms / baseline).toFixed(1)}× |`,
    );
  }
}

console.log(
  `# DLQ cleanup benchmark: ${IDS} ids, ${LATENCY} ms emulated latency, median of ${RUNS} run(s)\n` +
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
);

// Target 1: every id exists.
const all = { present: IDS };
const action = await median(RUNS, () => measure(tools.action(), all));
const perId = await median(RUNS, () => measure(tools.action({ strategy: 'per-id' }), all));
const official = await median(RUNS, () => measure(tools.official, all));
const fetchLoop = await median(RUNS, () => measure(tools.fetchLoop, all));
const hasCurl = await exec('curl', ['--version'], {}).then(
  () => true,
  () => false,
);
const curlLoop = hasCurl ? await median(RUNS, () => measure(tools.curlLoop, all)) : undefined;
if (!hasCurl) console.log('\n(curl is not installed: the curl loop is skipped)');
table(
  `1. ${IDS} ids, all in the DLQ, no rate limit`,
  [
    ['this action (strategy: auto)', action],
    ['this action (strategy: per-id)', perId],
    ['@upstash/workflow dlq.delete, 100 ids a call', official],
    ['sequential fetch loop', fetchLoop],
    ...(curlLoop ? [['sequential curl loop', curlLoop] as [string, Measure]] : []),
  ],
  action.ms,
);

// Target 2: half of the ids do not exist.
const half = { present: IDS / 2, missing: IDS / 2 };
const actionHalf = await median(RUNS, () => measure(tools.action(), half));
const officialHalf = await median(RUNS, () => measure(tools.official, half));
table(
  `2. ${IDS} ids, half of them not in the DLQ (interleaved)`,
  [
    ['this action (strategy: auto)', actionHalf],
    ['@upstash/workflow dlq.delete, 100 ids a call', officialHalf],
  ],
  actionHalf.ms,
);

// Target 3: per id under a 100 requests/s burst limit.
const limited = Math.round(IDS / 2);
const rateLimited = await median(RUNS, () =>
  measure(
    async (emulator, idsFile) => {
      const result = await tools.action({ strategy: 'per-id' })(emulator, idsFile);
      const throttled = emulator.count(429);
      const total = emulator.requests.length;
      return {
        ...result,
        extra: `${throttled} of ${total} requests answered 429 (${((throttled / total) * 100).toFixed(1)}%), failed ${result.extra}`,
      };
    },
    { present: limited, emulator: { rateLimit: { limit: 100 } } },
  ),
);
const bound = limited / 100;
console.log(`\n### 3. ${limited} ids per id under a 100 requests/s burst limit (bound: ${bound.toFixed(2)} s)\n`);
console.log(
  `wall time ${(rateLimited.ms / 1000).toFixed(2)} s = ${(rateLimited.ms / 1000 / bound).toFixed(2)}× the bound; ${rateLimited.extra}`,
);

// Target 4: start-up and memory.
const startups: number[] = [];
for (let i = 0; i < Math.max(5, RUNS); i += 1) {
  const emulator = await DlqEmulator.start();
  try {
    const [id] = emulator.seed('workflow', workflowEntries(1));
    const spawnedAt = Date.now();
    await runAction({ inputs: { 'dlq-ids': id!, 'qstash-url': emulator.url, 'qstash-token': emulator.token } });
    startups.push(emulator.requests[0]!.at - spawnedAt);
  } finally {
    await emulator.close();
  }
}
startups.sort((a, b) => a - b);
const BIG = Number(values['memory-ids'] ?? (values.quick ? 2000 : 20_000));
const rss: Record<string, number> = {};
for (const strategy of ['auto', 'per-id']) {
  const emulator = await DlqEmulator.start();
  try {
    const ids = emulator.seed('workflow', workflowEntries(BIG));
    const idsFile = join(work, 'big.txt');
    const rssFile = join(work, 'rss.txt');
    writeFileSync(idsFile, `${ids.join('\n')}\n`);
    const run = await runAction({
      inputs: {
        'dlq-ids-file': idsFile,
        'qstash-url': emulator.url,
        'qstash-token': emulator.token,
        strategy,
        concurrency: '32',
      },
      env: { RSS_FILE: rssFile },
      nodeArgs: ['--import', join(ROOT, 'bench/rss-probe.mjs')],
      timeoutMs: 600_000,
    });
    if (run.outputs['removed-count'] !== String(BIG)) throw new Error(`expected ${BIG} removed:\n${run.stdout}`);
    rss[strategy] = Number(readFileSync(rssFile, 'utf8')) / 1024;
  } finally {
    await emulator.close();
  }
}
console.log(`\n### 4. Start-up and memory\n`);
console.log(
  `process start to first request: median ${startups[Math.floor(startups.length / 2)]} ms (runs: ${startups.join(', ')} ms)`,
);
console.log(
  `peak RSS, ${BIG} ids from dlq-ids-file: ${rss.auto!.toFixed(0)} MiB (strategy auto), ${rss['per-id']!.toFixed(0)} MiB (strategy per-id)`,
);

rmSync(work, { recursive: true, force: true });
