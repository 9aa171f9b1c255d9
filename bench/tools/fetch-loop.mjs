/**
 * Baseline: a sequential fetch loop in plain JavaScript, one DELETE per id, as a quick script would do it.
 * Usage: node bench/tools/fetch-loop.mjs ids.txt (QSTASH_URL, QSTASH_TOKEN in the environment).
 */
import { readFileSync } from 'node:fs';

const ids = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
let removed = 0;
let notFound = 0;
for (const id of ids) {
  const response = await fetch(`${process.env.QSTASH_URL}/v2/workflows/dlq/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${process.env.QSTASH_TOKEN}` },
  });
  await response.arrayBuffer();
  if (response.status === 200) removed += 1;
  else if (response.status === 404) notFound += 1;
}
console.log(JSON.stringify({ confirmed: removed, notFound }));
