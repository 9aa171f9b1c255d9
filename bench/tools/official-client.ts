/** Baseline: the official @upstash/workflow client, dlq.delete(ids) in calls of 100 ids. Returns a count only. */
import { readFileSync } from 'node:fs';
import { Client } from '@upstash/workflow';

const [idsFile] = process.argv.slice(2);
const ids = readFileSync(idsFile!, 'utf8').split('\n').filter(Boolean);
const client = new Client({ token: process.env.QSTASH_TOKEN!, baseUrl: process.env.QSTASH_URL! });
let deleted = 0;
for (let i = 0; i < ids.length; i += 100) {
  const result = await client.dlq.delete(ids.slice(i, i + 100));
  deleted += result.deleted;
}
console.log(JSON.stringify({ deletedCount: deleted }));
