import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirInUseError } from './errors.ts';

const LOCK_FILE = 'runtime.pid';

/** Data directories this process holds, so a second runtime in the same process is refused too. */
const heldHere = new Set<string>();

/** A held data directory; `release()` gives it up. */
export interface DataDirLock {
  release(): void;
}

/**
 * Claims `dataDir` for this runtime. dynalite's LevelDB store cannot be opened twice (the second
 * open ends the process with an unhandled error), so a second `npm start` on the same directory is
 * refused with a message naming the first one's pid. A lock left by a process that died is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  if (heldHere.has(dataDir)) throw new DataDirInUseError(dataDir, process.pid);
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) throw new DataDirInUseError(dataDir, holder);
      rmSync(file, { force: true });
    }
  }
  heldHere.add(dataDir);
  return {
    release() {
      if (!heldHere.delete(dataDir)) return;
      rmSync(file, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
