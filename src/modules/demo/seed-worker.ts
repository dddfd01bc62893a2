import { parentPort, workerData } from 'node:worker_threads';
import { DemoGenerator, chunkCsv, type GeneratorOptions } from './generator.ts';

// Generates the demo data chunk by chunk, one chunk ahead of the database: the main thread asks
// for the next chunk before it loads the current one.
const { opts, chunk } = workerData as { opts: GeneratorOptions; chunk: number };
const gen = new DemoGenerator(opts);
let from = 0;
parentPort!.on('message', () => {
  if (from >= opts.connections) {
    parentPort!.postMessage(null);
    return;
  }
  const to = Math.min(opts.connections, from + chunk);
  parentPort!.postMessage(chunkCsv(gen, from, to));
  from = to;
});
