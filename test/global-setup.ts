import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { adminUrl, templateName } from './helpers/pg.ts';

/**
 * Builds one migrated database per run for the test files to clone: a PGlite data-folder
 * tarball, or on PostgreSQL (DATABASE_URL set) a template database.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const admin = await openDatabase({ databaseUrl: adminUrl(url) });
    const name = templateName();
    await admin.withClient(async (c) => {
      await c.exec(`DROP DATABASE IF EXISTS ${name}`);
      await c.exec(`CREATE DATABASE ${name}`);
    });
    const tpl = await openDatabase({ databaseUrl: withDb(url, name) });
    await migrate(tpl);
    await tpl.close();
    project.provide('pgTemplate', name);
    return async () => {
      await admin.withClient((c) => c.exec(`DROP DATABASE IF EXISTS ${name}`));
      await admin.close();
    };
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

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string;
    pgliteTemplate: string;
  }
}
