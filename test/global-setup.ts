import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';

/**
 * Builds one migrated database per run for the test files to clone: a PGlite data-folder
 * tarball, or on PostgreSQL the database DATABASE_URL names (a scratch database: the tests
 * migrate it and create each file's database from it as a template).
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || name === 'postgres') {
      throw new Error(`DATABASE_URL must name a scratch database for the tests (lower-case letters, digits, _), not "${name}"`);
    }
    const tpl = await openDatabase({ databaseUrl: url, poolMax: 1 });
    await migrate(tpl);
    const { rows } = await tpl.withClient((c) => c.query<{ n: bigint }>('SELECT count(*) AS n FROM connections'));
    await tpl.close();
    if (rows[0]!.n > 0n) throw new Error(`The test database "${name}" holds data; point DATABASE_URL at an empty scratch database.`);
    project.provide('pgTemplate', name);
    return;
  }
  const db = await openDatabase({});
  await migrate(db);
  const blob = await db.dumpDataDir!();
  await db.close();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-test-')), 'template.tar');
  fs.writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  project.provide('pgliteTemplate', file);
  return () => fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
    pgliteTemplate: string;
  }
}
