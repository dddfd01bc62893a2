import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BillingSimulator } from '../../src/adapters/billing-system/simulator.ts';
import { seedDemo } from '../../src/modules/demo/seed.ts';
import { buildGateway, SANDBOX_KEY_ID, type Payments } from '../../src/modules/payments/index.ts';
import type { App } from '../../src/platform/context.ts';
import type { Config } from '../../src/platform/config.ts';
import { openDatabase, type Database } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { buildApp } from '../../src/server.ts';
import { testConfig } from '../helpers/config.ts';

/**
 * A running portal on a free port (PostgreSQL when DATABASE_URL is set, else PGlite in memory) with a small demo.
 * Its sandbox gateway sends webhooks to it, as `serve` sets up, though only when a test pumps them (`payments.sandbox.pump`).
 */
export async function startPortal(connections = 500): Promise<{ url: string; app: App; database: Database; payments: Payments; config: Config; stop: () => Promise<void> }> {
  const webDist = path.resolve('web/dist');
  if (!fs.existsSync(path.join(webDist, 'index.html'))) throw new Error('web/dist is missing: run npm run build:web');
  const database = await openDatabase({});
  await migrate(database);
  await seedDemo(database, { seed: 5, connections, asOf: new Date() });
  const config = testConfig({ webDist, devTools: true });
  const payments = await buildGateway(config, database.db);
  const app = await buildApp({ config, database, billing: new BillingSimulator(database), clock: () => new Date(), payments });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await payments.sandbox?.merchant(config.razorpayKeyId ?? SANDBOX_KEY_ID, { webhookUrl: `${url}/api/v1/webhooks/razorpay` });
  return {
    url,
    app,
    database,
    payments,
    config,
    async stop() {
      await app.close();
      await database.close();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function axeViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  // An empty or unrendered page would pass vacuously: axe must have checked real content.
  if (r.passes.length < 10) throw new Error(`axe checked too little (${r.passes.length} rules passed): is the page rendered?`);
  return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}
