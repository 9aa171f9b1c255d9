/**
 * `npm start`: the action's main job on the local emulator. Starts the QStash DLQ emulator with seeded Workflow DLQ
 * entries and 25 ms latency, then runs the bundled dist/index.js against it as a runner would: a dry run, the real
 * cleanup, then a resume of other failed runs. Prints the log, the outputs and the step summary of each.
 */
import { DlqEmulator, workflowEntries } from '../emulator/server.ts';
import { runAction, type ActionRun } from '../emulator/run-action.ts';

const emulator = await DlqEmulator.start({ latencyMs: 25 });
try {
  const seeded = emulator.seed('workflow', workflowEntries(12));
  const toResume = emulator.seed('workflow', workflowEntries(3, {}, Date.now() + 60_000));
  // What a pipeline typically passes: most ids exist, a few were deleted earlier or expired, and one id is passed
  // twice on purpose, to show that it is acted on once and reported once.
  const ids = [...seeded.slice(0, 10), 'expired-1752829295505-0', seeded[0]!, 'deleted-by-hand-1752829299999-3'];
  const inputs = {
    'dlq-ids': ids.join('\n'),
    'qstash-token': emulator.token,
    'qstash-url': emulator.url,
    'on-not-found': 'warn',
  };
  console.log(
    `Emulator at ${emulator.url} with ${seeded.length + toResume.length} Workflow DLQ entries ` +
      `(${seeded.length} for the cleanup, ${toResume.length} to resume).\n` +
      `The cleanup passes ${ids.length} ids: ${seeded.slice(0, 10).length} in the DLQ, 2 that are not, and ` +
      `${seeded[0]} a second time on purpose: it is acted on once.\n`,
  );
  // No run link in the demo's summaries: there is no workflow run for it to point to.
  const noRun = { env: { GITHUB_REPOSITORY: '', GITHUB_RUN_ID: '', GITHUB_SERVER_URL: '' } };

  show('1. Dry run (dry-run: true)', await runAction({ ...noRun, inputs: { ...inputs, 'dry-run': 'true' } }));
  show('2. Cleanup', await runAction({ ...noRun, inputs }));
  show(
    '3. Resume three other failed runs (operation: resume)',
    await runAction({ ...noRun, inputs: { ...inputs, 'dlq-ids': toResume.join('\n'), operation: 'resume' } }),
  );
  console.log(
    `Left in the emulator's DLQ: ${emulator.ids('workflow').length} entries (the 2 not passed, and the 3 resumed: ` +
      `this emulator keeps re-run entries, as Upstash may).`,
  );
} finally {
  await emulator.close();
}

function show(title: string, run: ActionRun): void {
  const rule = '='.repeat(100);
  console.log(`${rule}\n${title}: exit code ${run.exitCode}, ${Math.round(run.durationMs)} ms\n${rule}`);
  console.log('--- log (stdout, as the runner sees it) ---');
  console.log(run.stdout.trimEnd());
  if (run.stderr.trim()) console.log(`--- stderr ---\n${run.stderr.trimEnd()}`);
  console.log('--- outputs ---');
  for (const [name, value] of Object.entries(run.outputs)) console.log(`${name}: ${value}`);
  console.log('--- step summary (Markdown) ---');
  console.log(run.summary.trimEnd(), '\n');
}
