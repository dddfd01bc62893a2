// A parse worker's first module: plain JavaScript, so that it loads without a TypeScript loader.
// It registers tsx in this thread (Node 20 applies `--import tsx` from execArgv too late for a
// worker's entry), then loads the worker proper. See parse-pool.ts.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
