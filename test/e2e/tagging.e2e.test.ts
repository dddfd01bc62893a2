import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildJobRunner } from '../../src/jobs.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import type { JobRunner } from '../../src/platform/jobs.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

describe('tagging in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runner: JobRunner;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-e2e-'));

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(300), launchChromium()]);
    runner = buildJobRunner(portal.database, { pollMs: 200 });
    runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await browser?.close();
    await portal?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  async function apiLogin(loginId: string) {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    const { stage, csrfToken } = (await r.json()) as { stage: string; csrfToken: string };
    const secret = DEMO_LOGINS.find((l) => l.loginId === loginId)?.totpSecret;
    if (stage === 'totp' && secret) {
      await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
      await page.request.post(`${portal.url}/api/v1/auth/totp`, { data: { code: totpCode(secret, stepAt(new Date())) }, headers: { 'x-csrf-token': csrfToken } });
    }
  }

  it('uploads a list, shows the checked counts and problem rows, applies it, and lists the connections', async () => {
    const owned = await portal.database.db.selectFrom('connections').select('consumer_no').where('owner_dept_code', '=', 'BR-EDU').limit(5).execute();
    const file = path.join(dir, 'schools.csv');
    fs.writeFileSync(file, ['Consumer No', ...owned.map((o) => o.consumer_no), '1.01E+09'].join('\n'));
    await apiLogin('edu.admin');
    await page.goto(`${portal.url}/org/upload`);
    await page.getByLabel('File').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload and check' }).click();
    await page.getByText('Checked: ready to apply').waitFor({ timeout: 30_000 });
    await expect(page.getByRole('list', { name: 'Rows by outcome' }).textContent()).resolves.toMatch(/5\s*will be tagged/);
    await expect(page.getByRole('region', { name: 'Rows with problems', exact: true }).textContent()).resolves.toContain('scientific notation');
    await page.getByRole('button', { name: 'Apply 5 rows' }).click();
    await page.getByText('Applied. Rows with problems were left out.').waitFor({ timeout: 30_000 });
    await page.goto(`${portal.url}/org/connections`);
    for (const o of owned) await page.getByText(o.consumer_no).first().waitFor();
  });

  it('tags one connection with its latest bill number', async () => {
    const c = await portal.database.db
      .selectFrom('connections as c')
      .innerJoin('bills as b', 'b.connection_id', 'c.id')
      .select(['c.consumer_no', 'b.bill_no', 'b.bill_month'])
      .where('c.owner_dept_code', 'is', null)
      .where('c.owner_pan', 'is', null)
      .where('c.consumer_no', 'not like', '9%')
      .orderBy('c.id')
      .orderBy('b.bill_month', 'desc')
      .executeTakeFirstOrThrow();
    await apiLogin('edu.admin');
    await page.goto(`${portal.url}/org/tag`);
    await page.getByLabel('Consumer number').fill(c.consumer_no);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByLabel('Latest bill number').fill(c.bill_no);
    await page.getByRole('button', { name: 'Tag', exact: true }).click();
    await page.getByText(`Connection ${c.consumer_no} is now tagged to your organisation.`).waitFor();
  });

  it('passes axe on every tagging page, in both languages', async () => {
    const job = await portal.database.db.selectFrom('tag_jobs').select('id').orderBy('id').executeTakeFirstOrThrow();
    const failures: string[] = [];
    for (const [who, paths] of [
      ['edu.admin', ['/org/connections', '/org/tag', '/org/upload', `/org/uploads/${job.id}`]],
      ['co.nbpdcl', ['/discom/tag-requests']],
    ] as const) {
      await context.clearCookies();
      await page.goto(portal.url);
      await apiLogin(who);
      for (const lang of ['en', 'hi']) {
        for (const p of paths) {
          await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
          await page.goto(portal.url + p);
          await page.locator('h1').first().waitFor();
          await page.waitForLoadState('networkidle');
          for (const v of await axeViolations(page)) failures.push(`${lang} ${p}: ${v}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
