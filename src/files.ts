/** Reading the ids file safely: a regular file of bounded size, never a FIFO or a device that could block forever. */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** Larger than any list of ids (100,000 ids are about 2 MB). */
export const MAX_IDS_FILE_BYTES = 64 * 1024 * 1024;

export function readIdsFile(path: string): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. (Windows has no such flag or files.)
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    if (stat.size > MAX_IDS_FILE_BYTES) {
      throw Object.assign(new Error(`${stat.size} bytes; at most ${MAX_IDS_FILE_BYTES} are read`), { code: 'EFBIG' });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
