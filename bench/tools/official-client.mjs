/**
 * Baseline: the official @upstash/workflow client, as a user's step would write it in plain JavaScript:
 * dlq.delete(ids) 100 ids a call, one call after the other. It gets a count only, no per-id outcome.
 * Usage: node bench/tools/official-client.mjs ids.txt (QSTASH_URL, QSTASH_TOKEN in the environment).
 */
import { readFileSync } from 'node:fs';
import { Client } from '@upstash/workflow';

const ids = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
const client = new Client({ token: process.env.QSTASH_TOKEN, baseUrl: process.env.QSTASH_URL });
let deleted = 0;
for (let i = 0; i < ids.length; i += 100) {
  const result = await client.dlq.delete(ids.slice(i, i + 100));
  deleted += result.deleted;
}
console.log(JSON.stringify({ deletedCount: deleted }));
