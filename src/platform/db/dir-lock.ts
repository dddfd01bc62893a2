import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PGlite lets two processes open one data folder and then silently loses writes. A lock file,
 * created exclusively, keeps a second process out. A lock left by a process that no longer runs
 * (a crash, SIGKILL) is taken over.
 */

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holderPid: number,
    readonly since: string,
  ) {
    super(
      `The data folder ${dir} is in use by another Sangrahan process (pid ${holderPid}, since ${since}). ` +
        `The embedded database allows one process at a time: stop that process, set DATA_DIR to another folder, ` +
        `or set DATABASE_URL to use PostgreSQL, which allows many.`,
    );
    this.name = 'DataDirLockedError';
  }
}

const LOCK_NAME = 'sangrahan.lock';
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): void;
}

export function lockDataDir(dir: string): DirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_NAME);
  if (heldHere.has(file)) throw new DataDirLockedError(dir, process.pid, 'earlier in this process');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }));
      fs.closeSync(fd);
      heldHere.add(file);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          try {
            fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: number; host?: string; since?: string } = {};
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof holder;
      } catch {
        // A half-written lock: its writer died between create and write.
      }
      const sameHost = holder.host === undefined || holder.host === os.hostname();
      if (holder.pid && sameHost && alive(holder.pid)) {
        throw new DataDirLockedError(dir, holder.pid, holder.since ?? 'unknown');
      }
      if (holder.pid && !sameHost) {
        throw new DataDirLockedError(dir, holder.pid, `${holder.since ?? 'unknown'} on host ${holder.host}`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dir}`);
}
