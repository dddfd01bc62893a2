import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

/**
 * JSON request bodies: no body of ours nests deeper than a few levels, so a body nesting arrays
 * or objects more than MAX_JSON_DEPTH deep is refused before it is parsed, by one pass over its
 * characters. A hostile `[[[[…` of a megabyte then costs a scan, not half a million arrays, and
 * nothing that walks the parsed body (the NUL check, validation, logging) ever sees such depth.
 */

export const MAX_JSON_DEPTH = 32;

export const tooDeep = () =>
  new AppError('VALIDATION_FAILED', [
    { path: 'body', problem: 'too_deep', message: { en: `is nested more than ${MAX_JSON_DEPTH} levels deep`, hi: `${MAX_JSON_DEPTH} स्तरों से अधिक गहराई तक नेस्टेड है` } },
  ]);

/** Whether JSON text opens more than `limit` arrays or objects inside one another (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Replaces the application/json parser with Fastify's own (same prototype-poisoning rules), after the depth scan. */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body: string, done) => {
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(tooDeep(), undefined);
      return;
    }
    void parse(req, body, done);
  });
}
