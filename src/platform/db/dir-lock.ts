import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PGlite lets two processes open one data folder and then silently loses writes. A lock file,
 * created exclusively, keeps a second process out. A lock left by a process that no longer runs
 * (a crash, SIGKILL; or our own pid, reused after a container restart) is taken over: the stale
 * file is first renamed aside, which only one contender can do, and checked to be the one read.
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

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
}

function readHolder(file: string): Holder | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
  } catch {
    return null; // gone, or being written this instant
  }
}

export function lockDataDir(dir: string): DirLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_NAME);
  if (heldHere.has(file)) throw new DataDirLockedError(dir, process.pid, 'earlier in this process');
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, mine);
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
    }
    const raw = (() => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return null;
      }
    })();
    if (raw === null) continue; // released meanwhile: try again
    const holder = readHolder(file);
    if (!holder) {
      // Empty or partial: its writer may be between create and write. Only an old one is stale.
      const age = Date.now() - fs.statSync(file).mtimeMs;
      if (age < 10_000) throw new DataDirLockedError(dir, 0, 'a moment ago (still starting)');
    } else {
      const sameHost = holder.host === undefined || holder.host === os.hostname();
      if (!sameHost) throw new DataDirLockedError(dir, holder.pid ?? 0, `${holder.since ?? 'unknown'} on host ${holder.host}`);
      if (holder.pid && holder.pid !== process.pid && alive(holder.pid)) {
        throw new DataDirLockedError(dir, holder.pid, holder.since ?? 'unknown');
      }
    }
    // Stale: move it aside. If what we moved is not what we judged, someone took over first.
    const aside = `${file}.stale-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = fs.readFileSync(aside, 'utf8');
    fs.rmSync(aside, { force: true });
    if (moved !== raw) {
      const other = (JSON.parse(moved || '{}') as Holder).pid ?? 0;
      throw new DataDirLockedError(dir, other, 'just now');
    }
  }
  throw new Error(`Could not lock the data folder ${dir}`);
}
