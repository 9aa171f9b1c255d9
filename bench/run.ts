/**
 * `npm run bench`: the action against the usual ways of doing the same job, each against a fresh loopback emulator,
 * side by side in one run. Every tool runs as its own process, the way it would in a pipeline step: the action as a
 * runner starts it, the baselines as plain JavaScript (.mjs, nothing to strip or compile) or a shell script. The
 * tools of one table take turns run by run, so that the machine's noise falls on all of them alike.
 *
 *   npm run bench                 # the full run (about 8 minutes: 3.5 for the curl and fetch loops and the
 *                                 # rest, 3.5 for section 7's 60 runs, a fifth of them with 100,000 entries,
 *                                 # 40 s for section 9's two waits)
 *   npm run bench -- --quick      # a smoke run: 100 ids, 1 run each; never fails on a target, only on an error
 *   npm run bench -- --only large-dlq            # one section (or several, comma-separated), and its targets
 *   options: --ids 1000 --latency 25 --runs 3 --memory-ids 20000 --entry dist/index.js
 *            --dlq-sizes 10000,100000 (section 7; default 10× and 100× --ids) --large-runs 5 (section 7)
 *            --report-size 100000 (section 8; --quick: 10000)
 *   sections: all-present, half-missing, one-id, rate-limit, redrive, startup, large-dlq, report, verify
 *   section 9 (verify): --ids re-runs whose new runs end within --verify-spread-ms (default 10000; --quick: 3000)
 *
 * After the tables, "Targets" compares the measured ratios with the goals (computed here, never typed in).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, runAction, type ActionRun } from '../emulator/run-action.ts';
import { DlqEmulator, workflowEntries, type EmulatorOptions } from '../emulator/server.ts';
import {
  describeCounts,
  planRuns,
  plannedCounts,
  verifyInProcess,
  verifyTraffic,
  type ByHandResult,
  type VerifyTraffic,
} from './verify.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ids: { type: 'string' },
    latency: { type: 'string', default: '25' },
    runs: { type: 'string' },
    'memory-ids': { type: 'string' },
    entry: { type: 'string' },
    only: { type: 'string' },
    'dlq-sizes': { type: 'string' },
    'large-runs': { type: 'string' },
    'report-size': { type: 'string' },
    'verify-spread-ms': { type: 'string' },
  },
});
const QUICK = values.quick;
const IDS = Number(values.ids ?? (QUICK ? 100 : 1000));
const LATENCY = Number(values.latency);
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3));
/** One id is quick to measure and start-up is noisy: more runs. */
const SHORT_RUNS = QUICK ? 3 : Math.max(9, RUNS);
const BIG = Number(values['memory-ids'] ?? (QUICK ? 2000 : 20_000));
const ENTRY = resolve(values.entry ?? join(ROOT, 'dist/index.js'));
const RATE_LIMIT = 100;
/** Section 7: the DLQ sizes the ids sit in, and its runs (a median of 5: the cases are short and noisy). */
const DLQ_SIZES = (values['dlq-sizes'] ?? `${IDS * 10},${IDS * 100}`).split(',').map(Number);
const LARGE_RUNS = Number(values['large-runs'] ?? values.runs ?? (QUICK ? 1 : 5));
/** Section 8: the DLQ a report lists. */
const REPORT_SIZE = Number(values['report-size'] ?? (QUICK ? 10_000 : 100_000));
/** Section 9: the new runs end at random within this long of their re-run. */
const VERIFY_SPREAD_MS = Number(values['verify-spread-ms'] ?? (QUICK ? 3000 : 10_000));
for (const [name, value] of Object.entries({
  ids: IDS,
  latency: LATENCY,
  runs: RUNS,
  'memory-ids': BIG,
  'large-runs': LARGE_RUNS,
  'report-size': REPORT_SIZE,
  'verify-spread-ms': VERIFY_SPREAD_MS,
})) {
  if (!Number.isInteger(value) || value < (['latency', 'verify-spread-ms'].includes(name) ? 0 : 1))
    throw new Error(`--${name}: not a count`);
}
if (DLQ_SIZES.some((size) => !Number.isInteger(size) || size < IDS)) {
  throw new Error(`--dlq-sizes: whole numbers of entries, each at least --ids (${IDS})`);
}
const SECTIONS = [
  'all-present',
  'half-missing',
  'one-id',
  'rate-limit',
  'redrive',
  'startup',
  'large-dlq',
  'report',
  'verify',
] as const;
type Section = (typeof SECTIONS)[number];
const ONLY = values.only?.split(',').map((name) => name.trim());
const unknown = ONLY?.filter((name) => !(SECTIONS as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) throw new Error(`--only: no section ${unknown.join(', ')} (sections: ${SECTIONS.join(', ')})`);
const want = (section: Section): boolean => ONLY === undefined || ONLY.includes(section);
const work = mkdtempSync(join(tmpdir(), 'dlq-bench-'));

interface Measure {
  ms: number;
  requests: number;
  confirmed: string;
  extra?: string;
  /** Section 7: the requests by kind (listing pages, bulk deletes, per-id deletes). */
  mix?: string;
}

interface Setup {
  present: number;
  missing?: number;
  /**
   * Entries in the DLQ besides the ids (section 7). The emulator lists in insertion order, so where the ids are
   * seeded is where the listing shows them: 'early' seeds them first (the first pages), 'spread' evenly among the rest.
   * After the run, the DLQ must hold exactly these others (every id gone, nothing else touched).
   */
  others?: number;
  placement?: 'early' | 'spread';
  emulator?: EmulatorOptions;
}

/** What a tool is given: a fresh emulator, the ids in a file, and which of them exist. */
interface Job {
  emulator: DlqEmulator;
  idsFile: string;
  ids: string[];
  present: string[];
  missing: string[];
}

type Tool = (job: Job) => Promise<{ confirmed: string; extra?: string }>;

/** Seeds a fresh emulator, writes the ids to delete, runs the tool, and returns what it measured. */
async function measure(tool: Tool, setup: Setup): Promise<Measure> {
  const emulator = await DlqEmulator.start({ latencyMs: LATENCY, ...setup.emulator });
  try {
    const entries = workflowEntries(setup.present + (setup.others ?? 0));
    emulator.seed('workflow', entries);
    const present = placement(entries.length, setup.present, setup.placement).map((index) => entries[index]!.dlqId);
    const missing = Array.from({ length: setup.missing ?? 0 }, (_, i) => `${Date.now() - 9e9}-missing-${i}`);
    // Interleaved, so that no strategy can profit from the order.
    const ids = present.flatMap((id, i) => (i < missing.length ? [id, missing[i]!] : [id]));
    const idsFile = join(work, 'ids.txt');
    writeFileSync(idsFile, `${ids.join('\n')}\n`);
    const started = performance.now();
    const result = await tool({ emulator, idsFile, ids, present, missing });
    const ms = performance.now() - started;
    if (setup.others === undefined) return { ms, requests: emulator.requests.length, ...result };
    checkLeft(emulator, present, setup.others);
    return { ms, requests: emulator.requests.length, mix: requestMix(emulator), ...result };
  } finally {
    await emulator.close();
  }
}

/** Which entries (by insertion index, in order) are the ids: the first ones, or one in the middle of each equal stretch. */
function placement(total: number, ids: number, where: Setup['placement'] = 'early'): number[] {
  const step = total / ids;
  return Array.from({ length: ids }, (_, i) => (where === 'early' ? i : Math.floor((i + 0.5) * step)));
}

/** The DLQ after a run in a large DLQ: none of the ids left, and every other entry still there. */
function checkLeft(emulator: DlqEmulator, present: readonly string[], others: number): void {
  const left = present.filter((id) => emulator.has('workflow', id)).length;
  const size = emulator.ids('workflow').length;
  if (left > 0 || size !== others) {
    throw new Error(`the DLQ after the run is wrong: ${left} of the ids left, ${size} entries (expected ${others})`);
  }
}

/** The requests of a run by kind: listing pages (GET of the collection), bulk deletes, per-id deletes. */
function requestMix(emulator: DlqEmulator): string {
  const collections = new Set(['/v2/workflows/dlq', '/v2/dlq']);
  let list = 0;
  let bulk = 0;
  let one = 0;
  let other = 0;
  for (const request of emulator.requests) {
    const collection = collections.has(request.path.split('?')[0]!.replace(/\/$/u, ''));
    if (request.method === 'GET' && collection) list += 1;
    else if (request.method === 'DELETE' && collection) bulk += 1;
    else if (request.method === 'DELETE') one += 1;
    else other += 1;
  }
  return `${list} list, ${bulk} bulk, ${one} per id${other > 0 ? `, ${other} other` : ''}`;
}

function medianOf<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

/** Runs the tools in turn, `runs` rounds, and returns each one's median run. */
async function compare(runs: number, setup: Setup, tools: Tool[]): Promise<Measure[]> {
  const all: Measure[][] = tools.map(() => []);
  for (let round = 0; round < runs; round += 1) {
    for (const [i, tool] of tools.entries()) all[i]!.push(await measure(tool, setup));
  }
  return all.map((measures) => medianOf(measures, (m) => m.ms));
}

function exec(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`${command} exited ${code}: ${err}`))));
  });
}

function env(emulator: DlqEmulator): Record<string, string> {
  return { QSTASH_URL: emulator.url, QSTASH_TOKEN: emulator.token };
}

function startAction(job: Job, inputs: Record<string, string>, inline = false): Promise<ActionRun> {
  const ids: Record<string, string> = inline ? { 'dlq-ids': job.ids.join('\n') } : { 'dlq-ids-file': job.idsFile };
  return runAction({
    entry: ENTRY,
    inputs: { ...ids, 'qstash-url': job.emulator.url, 'qstash-token': job.emulator.token, ...inputs },
    timeoutMs: 600_000,
  });
}

function jsonList(run: ActionRun, output: string): string[] {
  const text = run.outputs[output];
  if (text === undefined) throw new Error(`the action set no ${output} output:\n${run.stdout}`);
  return JSON.parse(text) as string[];
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** The action's run is checked every time: exit code, and each id's outcome against what the emulator held. */
function verifyDelete(run: ActionRun, job: Job): { confirmed: string } {
  const removed = jsonList(run, 'removed');
  const notFound = jsonList(run, 'not-found');
  const failed = jsonList(run, 'failed');
  const problems = [
    run.exitCode !== 0 && `exit code ${run.exitCode}`,
    !same(removed, job.present) && `removed: ${removed.length} ids, not the ${job.present.length} present`,
    !same(notFound, job.missing) && `not-found: ${notFound.length} ids, not the ${job.missing.length} missing`,
    failed.length > 0 && `failed: ${failed.length} ids`,
    run.outputs['removed-count'] !== String(removed.length) && 'removed-count does not match removed',
    run.outputs['not-found-count'] !== String(notFound.length) && 'not-found-count does not match not-found',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`the action's run is wrong (${problems.join('; ')}):\n${run.stdout}`);
  return { confirmed: `${removed.length} removed, ${notFound.length} not found` };
}

const tools = {
  action:
    (inputs: Record<string, string> = {}, inline = false): Tool =>
    async (job) =>
      verifyDelete(await startAction(job, inputs, inline), job),
  fetchLoop: (async ({ emulator, idsFile }) => {
    const out = await exec(process.execPath, [join(ROOT, 'bench/tools/fetch-loop.mjs'), idsFile], env(emulator));
    const parsed = JSON.parse(out) as { confirmed: number; notFound: number };
    return { confirmed: `${parsed.confirmed} removed, ${parsed.notFound} not found` };
  }) satisfies Tool,
  curlLoop: (async ({ emulator, idsFile }) => {
    const out = await exec('bash', [join(ROOT, 'bench/tools/curl-loop.sh'), idsFile], env(emulator));
    return { confirmed: `${(JSON.parse(out) as { confirmed: number }).confirmed} removed` };
  }) satisfies Tool,
  official: (async ({ emulator, idsFile, present }) => {
    const out = await exec(process.execPath, [join(ROOT, 'bench/tools/official-client.mjs'), idsFile], env(emulator));
    const { deletedCount } = JSON.parse(out) as { deletedCount: number };
    if (deletedCount !== present.length) {
      throw new Error(`the official client deleted ${deletedCount} entries, not the ${present.length} present`);
    }
    return { confirmed: `count only: ${deletedCount} deleted` };
  }) satisfies Tool,
};

const OFFICIAL = '@upstash/workflow dlq.delete, 100 ids a call';

function seconds(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function table(title: string, rows: [string, Measure, number][], baseline: number): void {
  console.log(`\n### ${title}\n`);
  console.log("| tool | wall time (median) | runs | requests | ids confirmed | × the action's time |");
  console.log('|---|---:|---:|---:|---|---:|');
  for (const [name, m, runs] of rows) {
    const requests = m.mix === undefined ? String(m.requests) : `${m.requests} (${m.mix})`;
    console.log(
      `| ${name} | ${seconds(m.ms)} | ${runs} | ${requests} | ${m.confirmed} | ${(m.ms / baseline).toFixed(2)}× |`,
    );
  }
}

const benchStarted = performance.now();
const entryInfo = statSync(ENTRY);
console.log(
  `# DLQ cleanup benchmark: ${IDS} ids, ${LATENCY} ms emulated latency, median of ${RUNS} run(s)` +
    `${want('large-dlq') ? ` (section 7: ${LARGE_RUNS})` : ''}${ONLY ? `; sections: ${ONLY.join(', ')}` : ''}\n` +
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}\n` +
    `action: ${relative(process.cwd(), ENTRY) || ENTRY} (${(entryInfo.size / 1024).toFixed(0)} KiB, ` +
    `built ${entryInfo.mtime.toISOString()})`,
);

// 1. Every id exists. The sequential loops are the slow baselines (tens of seconds a run).
const all = { present: IDS };
let action: Measure | undefined;
let official: Measure | undefined;
if (want('all-present')) {
  let perId: Measure | undefined;
  [action, perId, official] = await compare(RUNS, all, [
    tools.action(),
    tools.action({ strategy: 'per-id' }),
    tools.official,
  ]);
  const hasCurl = await exec('curl', ['--version'], {}).then(
    () => true,
    () => false,
  );
  const [fetchLoop, curlLoop] = await compare(
    RUNS,
    all,
    hasCurl ? [tools.fetchLoop, tools.curlLoop] : [tools.fetchLoop],
  );
  table(
    `1. ${IDS} ids, all in the DLQ, no rate limit`,
    [
      ['this action (strategy: auto)', action!, RUNS],
      ['this action (strategy: per-id)', perId!, RUNS],
      [OFFICIAL, official!, RUNS],
      ['sequential fetch loop (plain .mjs)', fetchLoop!, RUNS],
      ...(curlLoop ? [['sequential curl loop', curlLoop, RUNS] as [string, Measure, number]] : []),
    ],
    action!.ms,
  );
  if (!hasCurl) console.log('\n(curl is not installed: the curl loop is skipped)');
}

// 2. Half of the ids do not exist.
let actionHalf: Measure | undefined;
let officialHalf: Measure | undefined;
if (want('half-missing')) {
  const half = { present: Math.ceil(IDS / 2), missing: Math.floor(IDS / 2) };
  [actionHalf, officialHalf] = await compare(RUNS, half, [tools.action(), tools.official]);
  table(
    `2. ${IDS} ids, half of them not in the DLQ (interleaved)`,
    [
      ['this action (strategy: auto)', actionHalf!, RUNS],
      [OFFICIAL, officialHalf!, RUNS],
    ],
    actionHalf!.ms,
  );
}

// 3. One id, given inline as a step would: mostly start-up. The fetch script is the floor (Node and one request).
let actionOne: Measure | undefined;
let officialOne: Measure | undefined;
if (want('one-id')) {
  let fetchOne: Measure | undefined;
  [actionOne, officialOne, fetchOne] = await compare(SHORT_RUNS, { present: 1 }, [
    tools.action({}, true),
    tools.official,
    tools.fetchLoop,
  ]);
  table(
    '3. One id',
    [
      ['this action (dlq-ids: the id)', actionOne!, SHORT_RUNS],
      [OFFICIAL, officialOne!, SHORT_RUNS],
      ['one fetch (plain .mjs)', fetchOne!, SHORT_RUNS],
    ],
    actionOne!.ms,
  );
}

// 4. Per id under a burst limit.
const limited = Math.round(IDS / 2);
const bound = (limited / RATE_LIMIT) * 1000;
let rateLimited: Measure | undefined;
if (want('rate-limit')) {
  [rateLimited] = await compare(RUNS, { present: limited, emulator: { rateLimit: { limit: RATE_LIMIT } } }, [
    async (job) => {
      const result = tools.action({ strategy: 'per-id' })(job);
      return { ...(await result), extra: String(job.emulator.count(429)) };
    },
  ]);
  const throttled = Number(rateLimited!.extra);
  console.log(
    `\n### 4. ${limited} ids per id under a ${RATE_LIMIT} requests/s burst limit (bound: ${seconds(bound)})\n`,
  );
  console.log(
    `wall time ${seconds(rateLimited!.ms)} = ${(rateLimited!.ms / bound).toFixed(2)}× the bound; ` +
      `${throttled} of ${rateLimited!.requests} requests answered 429 ` +
      `(${((throttled / rateLimited!.requests) * 100).toFixed(1)}%); ${rateLimited!.confirmed}`,
  );
}

// 5. Redrive: `operation: restart` re-runs each entry (one request per id). Builds without it are detected: they
// either reject the input or ignore it and delete instead (no restart request reaches the emulator).
let redrive: { restart: Measure; perId: Measure } | { skipped: string } | undefined;
if (want('redrive')) {
  const restarts = (emulator: DlqEmulator): typeof emulator.requests =>
    emulator.requests.filter((r) => r.path.split('?')[0]!.includes('/dlq/restart'));
  const restartTool: Tool = async (job) => {
    const run = await startAction(job, { operation: 'restart' });
    const sent = restarts(job.emulator);
    if (run.exitCode !== 0 && /operation/iu.test(`${run.stdout}\n${run.stderr}`)) {
      const said = run.annotations.find((a) => a.level === 'error')?.message ?? run.stderr.trim().split('\n')[0];
      redrive = { skipped: `this build rejects \`operation: restart\`: ${said}` };
      return { confirmed: 'skipped' };
    }
    if (run.exitCode === 0 && sent.length === 0) {
      redrive = { skipped: 'this build has no `operation` input: it ignored it and sent no restart request' };
      return { confirmed: 'skipped' };
    }
    const ok = new Set(
      sent.filter((r) => typeof r.result === 'number' && r.result < 300).map((r) => r.path.split('?')[0]),
    );
    const failed = run.outputs['failed-count'];
    if (run.exitCode !== 0 || ok.size !== job.present.length || (failed !== undefined && failed !== '0')) {
      throw new Error(
        `the restart run is wrong (exit ${run.exitCode}, ${ok.size} of ${job.present.length} ids restarted, ` +
          `failed-count ${failed}):\n${run.stdout}`,
      );
    }
    const counts = Object.entries(run.outputs)
      .filter(([name, value]) => name.endsWith('-count') && value !== '0')
      .map(([name, value]) => `${name} ${value}`);
    return { confirmed: `${ok.size} restarted (emulator); ${counts.join(', ') || 'no counts'}` };
  };
  // A two-id probe first, so that a build without the feature costs no full runs.
  await measure(restartTool, { present: 2 });
  console.log(`\n### 5. Redrive: ${IDS} ids re-run (operation: restart) against deleted one by one\n`);
  if (redrive && 'skipped' in redrive) {
    console.log(`skipped: ${redrive.skipped}`);
  } else {
    const [restart, perIdDelete] = await compare(RUNS, all, [restartTool, tools.action({ strategy: 'per-id' })]);
    redrive = { restart: restart!, perId: perIdDelete! };
    const perIdMs = (m: Measure): string => `${(m.ms / IDS).toFixed(2)} ms per id`;
    console.log('| run | wall time (median) | per id | requests | ids confirmed |');
    console.log('|---|---:|---:|---:|---|');
    for (const [name, m] of [
      ['this action (operation: restart)', restart!],
      ['this action (strategy: per-id, delete)', perIdDelete!],
    ] as const) {
      console.log(`| ${name} | ${seconds(m.ms)} | ${perIdMs(m)} | ${m.requests} | ${m.confirmed} |`);
    }
  }
}

// 6. Start-up and memory. Plain start-up first: an empty Node process, then a plain .mjs's first request.
if (want('startup')) {
  const plain: number[] = [];
  for (let i = 0; i < SHORT_RUNS; i += 1) {
    const started = performance.now();
    await exec(process.execPath, ['--input-type=module', '--eval', ''], {});
    plain.push(performance.now() - started);
  }
  const firstRequest: Record<'action' | 'official' | 'fetch', number[]> = { action: [], official: [], fetch: [] };
  for (let i = 0; i < SHORT_RUNS; i += 1) {
    for (const tool of ['action', 'official', 'fetch'] as const) {
      const emulator = await DlqEmulator.start();
      try {
        const [id] = emulator.seed('workflow', workflowEntries(1));
        const idsFile = join(work, 'one.txt');
        writeFileSync(idsFile, `${id}\n`);
        const spawnedAt = Date.now();
        if (tool === 'action') {
          const job = { emulator, idsFile, ids: [id!], present: [id!], missing: [] };
          verifyDelete(await startAction(job, {}, true), job);
        } else {
          const script = tool === 'official' ? 'official-client.mjs' : 'fetch-loop.mjs';
          await exec(process.execPath, [join(ROOT, 'bench/tools', script), idsFile], env(emulator));
        }
        firstRequest[tool].push(emulator.requests[0]!.at - spawnedAt);
      } finally {
        await emulator.close();
      }
    }
  }
  const rss: Record<string, number> = {};
  for (const strategy of ['auto', 'per-id']) {
    const emulator = await DlqEmulator.start();
    try {
      const ids = emulator.seed('workflow', workflowEntries(BIG));
      const idsFile = join(work, 'big.txt');
      const rssFile = join(work, 'rss.txt');
      writeFileSync(idsFile, `${ids.join('\n')}\n`);
      const run = await runAction({
        entry: ENTRY,
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
      verifyDelete(run, { emulator, idsFile, ids, present: ids, missing: [] });
      rss[strategy] = Number(readFileSync(rssFile, 'utf8')) / 1024;
    } finally {
      await emulator.close();
    }
  }
  const runsOf = (list: number[]): string =>
    `median ${medianOf(list, (x) => x).toFixed(0)} ms (runs: ${list.map((x) => x.toFixed(0)).join(', ')} ms)`;
  console.log(`\n### 6. Start-up and memory\n`);
  console.log(`plain Node start and exit (empty module): ${runsOf(plain)}`);
  console.log(`process start to first request, this action: ${runsOf(firstRequest.action)}`);
  console.log(
    `process start to first request, ${OFFICIAL.split(' ')[0]} (plain .mjs): ${runsOf(firstRequest.official)}`,
  );
  console.log(`process start to first request, fetch (plain .mjs): ${runsOf(firstRequest.fetch)}`);
  console.log(
    `peak RSS, ${BIG} ids from dlq-ids-file: ${rss.auto!.toFixed(0)} MiB (strategy auto), ` +
      `${rss['per-id']!.toFixed(0)} MiB (strategy per-id)`,
  );
}

// 7. `strategy: auto` (the default) when the DLQ is much larger than the id list: the listing shows the ids among
// many other entries, early or spread through it.
interface LargeCase {
  title: string;
  auto: Measure;
  perId: Measure;
  official: Measure;
}
const large: LargeCase[] = [];
if (want('large-dlq')) {
  const started = performance.now();
  console.log(
    `\n### 7. auto in a large DLQ: ${IDS} ids in DLQs of ${DLQ_SIZES.join(' and ')} entries ` +
      `(median of ${LARGE_RUNS} run(s))\n\n` +
      'The emulator lists in insertion order, 100 entries a page. "early": the ids are seeded first, so they fill ' +
      `the first ${Math.ceil(IDS / 100)} pages of the listing; "spread": one id in the middle of every ` +
      'DLQ size / ids entries. After each run the DLQ must hold exactly the other entries.',
  );
  for (const size of DLQ_SIZES) {
    for (const where of ['early', 'spread'] as const) {
      const letter = String.fromCharCode(97 + large.length);
      const title = `${IDS} ids ${where === 'early' ? 'on the first pages' : 'spread evenly'}, DLQ of ${size}`;
      const setup: Setup = { present: IDS, others: size - IDS, placement: where };
      const [auto, perId, official] = await compare(LARGE_RUNS, setup, [
        tools.action(),
        tools.action({ strategy: 'per-id' }),
        tools.official,
      ]);
      table(
        `7${letter}. ${title}`,
        [
          ['this action (strategy: auto)', auto!, LARGE_RUNS],
          ['this action (strategy: per-id)', perId!, LARGE_RUNS],
          [OFFICIAL, official!, LARGE_RUNS],
        ],
        auto!.ms,
      );
      console.log(
        `\nauto: ${(auto!.ms / perId!.ms).toFixed(2)}× per-id, ${(auto!.ms / official!.ms).toFixed(2)}× the official client`,
      );
      large.push({ title, auto: auto!, perId: perId!, official: official! });
    }
  }
  console.log(`\n(section 7 took ${seconds(performance.now() - started)})`);
}

// 8. A report: the whole DLQ listed, side by side (Lister.listWide) against one sequential page chain.
let report: { wide: ReportMeasure; sequential: ReportMeasure; limited?: ReportMeasure } | undefined;
if (want('report')) {
  const runs = QUICK ? 1 : Math.min(RUNS, 3);
  const wide: ReportMeasure[] = [];
  const sequential: ReportMeasure[] = [];
  // Taking turns, so that the machine's noise falls on both alike.
  for (let run = 0; run < runs; run += 1) {
    wide.push(await measureReport(REPORT_SIZE, 'wide'));
    sequential.push(await measureReport(REPORT_SIZE, 'sequential'));
  }
  report = { wide: medianOf(wide, (m) => m.ms), sequential: medianOf(sequential, (m) => m.ms) };
  if (!QUICK) {
    report.limited = await measureReport(REPORT_SIZE, 'wide', { rateLimit: { limit: RATE_LIMIT } });
  }
  console.log(
    `\n### 8. Report: a ${REPORT_SIZE}-entry Workflow DLQ listed whole (median of ${runs} run(s))\n\n` +
      'Each listing is the bundled action (dist/index.js) run as a runner runs it, `operation: report` with no ' +
      'selection: side by side at concurrency 8, and as one sequential page chain at concurrency 1 (the listing ' +
      "then reads one page after another, as every listing did before). The time is the step's, start-up " +
      "included; peak RSS is the step process's own, and the entries are the step's " +
      "entries-count, which must be the DLQ's size.\n",
  );
  console.log('| listing | time | pages read | entries | peak RSS |');
  console.log('|---|---:|---:|---:|---:|');
  const rows: [string, ReportMeasure | undefined][] = [
    ['report, side by side (concurrency 8), no rate limit', report.wide],
    ['report, one sequential page chain (concurrency 1), no rate limit', report.sequential],
    [`report, side by side, ${RATE_LIMIT} requests/s burst limit`, report.limited],
  ];
  for (const [name, m] of rows) {
    if (m === undefined) continue;
    console.log(`| ${name} | ${seconds(m.ms)} | ${m.pages} | ${m.entries} | ${m.peakRssMiB.toFixed(0)} MiB |`);
  }
  console.log(`\nside by side: ${(report.wide.ms / report.sequential.ms).toFixed(2)}× the sequential chain`);
  if (report.limited) {
    const floor = (report.limited.pages / RATE_LIMIT) * 1000;
    console.log(
      `under ${RATE_LIMIT} requests/s: ${(report.limited.ms / report.sequential.ms).toFixed(2)}× the sequential ` +
        `chain, ${(report.limited.ms / floor).toFixed(2)}× pages / limit (${seconds(floor)}), ` +
        `${report.limited.throttled} answers 429`,
    );
  }
}

// 9. Verify: the wait after a redrive (`verify`), the bundled action against asking run by run. One run each: the
// wait is paced by its rounds (2 s, 4 s, 8 s, 16 s, then 30 s apart), not by the machine.
const VERIFY_DURATION = '2m';
const VERIFY_PLAN = { spreadMs: VERIFY_SPREAD_MS, failRate: 0.02 };
let verified: { action: VerifyMeasure; byHand: VerifyMeasure } | { skipped: string } | undefined;
if (want('verify')) {
  const started = performance.now();
  const unsupported = await probeVerify();
  console.log(
    `\n### 9. Verify: ${IDS} re-runs (operation: resume) waited for until their new runs ended\n\n` +
      `The new runs end at random within ${seconds(VERIFY_SPREAD_MS)} of their re-run, ` +
      `${VERIFY_PLAN.failRate * 100}% of them failing again (back in the DLQ with a new DLQ id). "time verifying" ` +
      'runs from the last re-run answer to the last logs answer; both ways must report every run as the emulator ' +
      'ended it. One run each: the wait is paced by its rounds, not by the machine.\n',
  );
  if (unsupported !== undefined) {
    verified = { skipped: unsupported };
    console.log(`${unsupported}: measuring src/verify.ts in process instead (bench/verify.ts)\n`);
    const emulator = await DlqEmulator.start({ latencyMs: LATENCY });
    try {
      const ids = emulator.seed('workflow', workflowEntries(IDS));
      planRuns(emulator, ids, VERIFY_PLAN);
      const result = await verifyInProcess(emulator, ids, 120_000);
      console.log(
        `src/verify.ts: ${result.requests} logs requests in ${result.rounds} rounds, ${seconds(result.elapsedMs)} ` +
          `(${result.ended}); run by run at the same pacing: ${result.runByRun} requests; ` +
          describeCounts(result.counts),
      );
    } finally {
      await emulator.close();
    }
  } else {
    const action = await measureVerify('action');
    const byHand = await measureVerify('by-hand');
    verified = { action, byHand };
    console.log('| way | requests (re-runs + logs) | logs rounds | time verifying | wall time | states seen |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const [name, m] of [
      [`this action (verify: ${VERIFY_DURATION}), 50 runs a logs request`, action],
      ['by hand: one run a logs request, 8 at a time, same pacing', byHand],
    ] as const) {
      console.log(
        `| ${name} | ${m.reruns} + ${m.logs} | ${m.rounds} | ${seconds(m.verifyMs)} | ${seconds(m.ms)} | ${m.states} |`,
      );
    }
    console.log(
      `\nlogs requests: ${action.logs} against ${byHand.logs} by hand (${(action.logs / byHand.logs).toFixed(3)}×), ` +
        `at most ${Math.ceil(IDS / 50)} a round; time verifying: ${(action.verifyMs / byHand.verifyMs).toFixed(2)}× by hand`,
    );
  }
  console.log(`\n(section 9 took ${seconds(performance.now() - started)})`);
}

// Targets: ratios from the medians above, compared with the goals.
function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}
const ratio = (a: Measure, b: Measure): number => a.ms / b.ms;
const x = (value: number): string => `${value.toFixed(2)}×`;
const lines: string[] = [];
const skipped = (section: Section): string => `not measured (--only ${ONLY?.join(',')}: no ${section} section)`;
if (action && official) {
  const allRatio = ratio(action, official);
  lines.push(
    `all present (the DLQ holds just the ids): ${x(allRatio)} the official client, with each id's outcome ` +
      `(it has a count only) (target ≤ 1.1×): ${verdict(allRatio <= 1.1)}`,
  );
} else {
  lines.push(`all present (the DLQ holds just the ids): ${skipped('all-present')}`);
}
if (actionHalf && officialHalf) {
  const halfRatio = ratio(actionHalf, officialHalf);
  lines.push(`half missing: ${x(halfRatio)} the official client (target ≤ 0.8×): ${verdict(halfRatio <= 0.8)}`);
} else {
  lines.push(`half missing: ${skipped('half-missing')}`);
}
if (actionOne && officialOne) {
  const oneRatio = ratio(actionOne, officialOne);
  lines.push(`one id: ${x(oneRatio)} the official client (target ≤ 1.5×): ${verdict(oneRatio <= 1.5)}`);
} else {
  lines.push(`one id: ${skipped('one-id')}`);
}
if (rateLimited) {
  const limitRatio = rateLimited.ms / bound;
  const share = Number(rateLimited.extra) / rateLimited.requests;
  lines.push(
    `per id under ${RATE_LIMIT}/s: ${x(limitRatio)} N/limit (target ≤ 1.15×), ${(share * 100).toFixed(1)}% 429s ` +
      `(target ≤ 5%): ${verdict(limitRatio <= 1.15 && share <= 0.05)}`,
  );
} else {
  lines.push(`per id under ${RATE_LIMIT}/s: ${skipped('rate-limit')}`);
}
if (!want('redrive')) {
  lines.push(`redrive: ${skipped('redrive')}`);
} else if (redrive && 'restart' in redrive) {
  const redriveRatio = ratio(redrive.restart, redrive.perId);
  lines.push(
    `redrive: ${(redrive.restart.ms / IDS).toFixed(2)} ms per id restarted vs ${(redrive.perId.ms / IDS).toFixed(2)} ` +
      `ms per id deleted one by one, ${x(redriveRatio)} (target ≤ 1×): ${verdict(redriveRatio <= 1)}`,
  );
} else {
  lines.push(`redrive: not measured (${redrive && 'skipped' in redrive ? redrive.skipped : 'no run'})`);
}
if (want('large-dlq')) {
  for (const item of large) {
    const perIdRatio = ratio(item.auto, item.perId);
    lines.push(
      `auto in a large DLQ, ${item.title}: ${x(perIdRatio)} per-id (target ≤ 1.1×): ${verdict(perIdRatio <= 1.1)} ` +
        `(${x(ratio(item.auto, item.official))} the official client, no target)`,
    );
  }
} else {
  lines.push(`auto in a large DLQ: ${skipped('large-dlq')}`);
}
if (report) {
  const reportRatio = report.wide.ms / report.sequential.ms;
  lines.push(
    `report of ${REPORT_SIZE} entries: side by side ${x(reportRatio)} one sequential page chain ` +
      `(target ≤ 0.35×): ${verdict(reportRatio <= 0.35)}`,
  );
} else {
  lines.push(`report: ${skipped('report')}`);
}
if (verified && 'action' in verified) {
  const { action: a, byHand: h } = verified;
  lines.push(
    `verify ${IDS} re-runs: ${a.logs} logs requests and ${seconds(a.verifyMs)} verifying, by hand ${h.logs} ` +
      `and ${seconds(h.verifyMs)} (figures, no target)`,
  );
} else {
  lines.push(`verify: ${verified ? `not measured through the action (${verified.skipped})` : skipped('verify')}`);
}
console.log(
  `\n### Targets${QUICK || IDS !== 1000 ? ` (set for 1000 ids; this run has ${IDS}: indicative only)` : ''}\n`,
);
for (const line of lines) console.log(`- ${line}`);

console.log(`\n(the benchmark took ${seconds(performance.now() - benchStarted)})`);
if (statSync(ENTRY).mtimeMs !== entryInfo.mtimeMs) {
  console.log(`\nWARNING: ${ENTRY} changed during the run; the figures mix two builds.`);
}
rmSync(work, { recursive: true, force: true });

/** Section 8: one report (side by side, or one page chain), and what it measured. */
type ReportHow = 'wide' | 'sequential';

interface ReportMeasure {
  /** The step's entries-count: every entry, counted once. */
  readonly entries: number;
  /** The step, start to exit. */
  readonly ms: number;
  readonly peakRssMiB: number;
  /** Listing requests the emulator answered. */
  readonly pages: number;
  readonly throttled: number;
}

/**
 * A fresh emulator with `size` entries at the bench's latency, reported on once by dist/index.js as a step runs it
 * (`operation: report`; side by side at concurrency 8, or one page chain at 1), which must count every one.
 */
async function measureReport(size: number, how: ReportHow, options: EmulatorOptions = {}): Promise<ReportMeasure> {
  const emulator = await DlqEmulator.start({ latencyMs: LATENCY, ...options });
  try {
    emulator.seed('workflow', workflowEntries(size));
    const rssFile = join(work, `report-rss-${how}-${Date.now()}`);
    const started = performance.now();
    const run = await runAction({
      entry: ENTRY,
      inputs: {
        operation: 'report',
        'qstash-url': emulator.url,
        'qstash-token': emulator.token,
        concurrency: how === 'wide' ? '8' : '1',
      },
      env: { RSS_FILE: rssFile },
      nodeArgs: ['--import', join(ROOT, 'bench/rss-probe.mjs')],
      timeoutMs: 600_000,
    });
    const ms = performance.now() - started;
    if (run.exitCode !== 0) throw new Error(`the ${how} report failed: ${run.stdout.slice(-2000)}`);
    const entries = Number(run.outputs['entries-count']);
    if (entries !== size) throw new Error(`the ${how} report counted ${entries} of ${size} entries`);
    const pages = emulator.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/workflows/dlq?')).length;
    const peakRssMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
    return { entries, ms, peakRssMiB, pages, throttled: emulator.count(429) };
  } finally {
    await emulator.close();
  }
}

/** Section 9: one way of verifying, as the emulator saw it. */
interface VerifyMeasure extends VerifyTraffic {
  /** The step (or the by-hand script), start to exit. */
  readonly ms: number;
  readonly states: string;
}

/**
 * Why the build cannot be measured with `verify` (it refuses the input, or ignores it and sets no run-states), or
 * undefined when it verifies: a two-id probe, so that a build without the feature costs no full run.
 */
async function probeVerify(): Promise<string | undefined> {
  const emulator = await DlqEmulator.start();
  try {
    const ids = emulator.seed('workflow', workflowEntries(2));
    const run = await runAction({
      entry: ENTRY,
      inputs: {
        'dlq-ids': ids.join('\n'),
        operation: 'resume',
        verify: '30s',
        'qstash-url': emulator.url,
        'qstash-token': emulator.token,
      },
      timeoutMs: 120_000,
    });
    if (run.exitCode !== 0) {
      const said = run.annotations.find((a) => a.level === 'error')?.message ?? run.stderr.trim().split('\n')[0];
      return `this build's verify run failed (${said})`;
    }
    if (!run.outputs['run-states']) return 'this build has no `verify` (it set no run-states)';
    return undefined;
  } finally {
    await emulator.close();
  }
}

/**
 * A fresh emulator with IDS entries whose new runs end as VERIFY_PLAN says, resumed and waited for by the bundled
 * action (`verify`, `on-re-failed: warn`) or by the by-hand script (bench/verify.ts --by-hand), each as its own
 * process. Either must report every run's end as planned: a measure of a wrong answer is no measure.
 */
async function measureVerify(how: 'action' | 'by-hand'): Promise<VerifyMeasure> {
  const emulator = await DlqEmulator.start({ latencyMs: LATENCY });
  try {
    const ids = emulator.seed('workflow', workflowEntries(IDS));
    const planned = plannedCounts(planRuns(emulator, ids, VERIFY_PLAN));
    const idsFile = join(work, 'verify-ids.txt');
    writeFileSync(idsFile, `${ids.join('\n')}\n`);
    const started = performance.now();
    let seen: { succeeded: number; failed: number; running: number };
    /** The by-hand script counts its own rounds: its 1,000-request rounds run into each other. */
    let rounds: number | undefined;
    if (how === 'action') {
      const run = await runAction({
        entry: ENTRY,
        inputs: {
          'dlq-ids-file': idsFile,
          operation: 'resume',
          verify: VERIFY_DURATION,
          'on-re-failed': 'warn',
          'qstash-url': emulator.url,
          'qstash-token': emulator.token,
        },
        timeoutMs: 600_000,
      });
      if (run.exitCode !== 0) throw new Error(`the verify run exited ${run.exitCode}:\n${run.stdout.slice(-2000)}`);
      if (run.outputs['redriven-count'] !== String(IDS)) {
        throw new Error(`the verify run redrove ${run.outputs['redriven-count']} of ${IDS} ids`);
      }
      seen = {
        succeeded: Number(run.outputs['succeeded-count']),
        failed: Number(run.outputs['re-failed-count']),
        running: Number(run.outputs['still-running-count']),
      };
    } else {
      const args = [join(ROOT, 'bench/verify.ts'), '--by-hand', idsFile, '--duration-ms', '120000'];
      const result = JSON.parse(await exec(process.execPath, args, env(emulator))) as ByHandResult;
      if (result.resumed !== IDS) throw new Error(`the by-hand script resumed ${result.resumed} of ${IDS} ids`);
      const { counts } = result;
      rounds = result.rounds;
      seen = { succeeded: counts.RUN_SUCCESS, failed: counts.RUN_FAILED, running: counts.RUN_STARTED + counts.unknown };
    }
    const ms = performance.now() - started;
    if (seen.succeeded !== planned.RUN_SUCCESS || seen.failed !== planned.RUN_FAILED || seen.running !== 0) {
      throw new Error(
        `${how} saw ${seen.succeeded} succeeded, ${seen.failed} failed again, ${seen.running} still running; ` +
          `planned ${planned.RUN_SUCCESS}, ${planned.RUN_FAILED}, 0`,
      );
    }
    const states = `${seen.succeeded} succeeded, ${seen.failed} failed again, ${seen.running} still running`;
    const traffic = verifyTraffic(emulator);
    return { ...traffic, rounds: rounds ?? traffic.rounds, ms, states };
  } finally {
    await emulator.close();
  }
}
