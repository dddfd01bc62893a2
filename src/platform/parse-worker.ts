import { parentPort } from 'node:worker_threads';
import { setParseLimits, type ParseLimits } from './parse-limits.ts';

/**
 * A parse worker: runs one named export of one module per task and posts back its value. Buffers
 * arrive as Uint8Array (structured clone) and are handed on as Buffer. A thrown error comes back
 * by name and message; parsers return expected refusals as values (see the *OffThread wrappers).
 */

export interface TaskMessage {
  id: number;
  module: string;
  fn: string;
  args: unknown[];
  limits: ParseLimits;
}

export type ReplyMessage =
  | { ready: true }
  /** The module is loaded and the parse begins: the time budget runs from here. */
  | { id: number; started: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string | undefined } };

const port = parentPort!;
const modules = new Map<string, Promise<Record<string, unknown>>>();

port.on('message', (task: TaskMessage) => {
  void run(task).then((reply) => port.postMessage(reply));
});

async function run(task: TaskMessage): Promise<ReplyMessage> {
  try {
    setParseLimits(task.limits);
    let mod = modules.get(task.module);
    if (!mod) {
      mod = import(task.module) as Promise<Record<string, unknown>>;
      modules.set(task.module, mod);
    }
    const fn = (await mod)[task.fn];
    if (typeof fn !== 'function') throw new Error(`${task.module} has no function ${task.fn}`);
    port.postMessage({ id: task.id, started: true } satisfies ReplyMessage);
    const args = task.args.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a));
    const value: unknown = await (fn as (...a: unknown[]) => unknown)(...args);
    return { id: task.id, ok: true, value };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { id: task.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack } };
  }
}

port.postMessage({ ready: true } satisfies ReplyMessage);
