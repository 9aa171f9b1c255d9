/**
 * Before any test: the end-to-end tests run the bundled dist/index.js, so a dist/ older than src/ would test old
 * code and pass. Refuse to start instead. (Set SKIP_DIST_CHECK=1 to skip, e.g. right after `npm run check-dist`.)
 */
import { distProblems } from '../scripts/check-dist.ts';

export default function setup(): void {
  if (process.env.SKIP_DIST_CHECK === '1') return;
  const problems = distProblems(false);
  if (problems.length > 0) {
    throw new Error(
      `dist/ is not what src/ builds to, so the end-to-end tests would test old code:\n- ${problems.join('\n- ')}\n` +
        'Run `npm run build` first.',
    );
  }
}
