import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

// SCREENSHOTS=dir keeps a PNG of every page visited, to look at.
const shots = process.env.SCREENSHOTS;

describe('dues pages in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(1500), launchChromium()]);
    await tagDemoConnections(portal.database);
    if (shots) fs.mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
  });

  const login = async (loginId: string) => {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    expect(r.status()).toBe(200);
  };
  const shot = async (name: string) => {
    if (!shots) return;
    // Web fonts arrive on demand (unicode-range): wait for them so the picture shows the text.
    await page.evaluate(async () => {
      const fonts = (globalThis as unknown as { document: { fonts: { load(f: string, t: string): Promise<unknown>; ready: Promise<unknown> } } }).document.fonts;
      await Promise.all(['400', '700'].map((w) => fonts.load(`${w} 16px "Noto Sans Devanagari"`, 'कबक')));
      await fonts.ready;
    });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  const setLang = async (lang: string) => {
    await page.goto(portal.url);
    await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
  };

  it('shows the figures, the charts with their tables, the breakdowns and when data was synced', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/org/dues`);
    await page.getByRole('heading', { name: 'Dues of our connections' }).waitFor();
    const figures = page.getByRole('list', { name: 'Headline figures' });
    await expect(figures.textContent()).resolves.toMatch(/Total outstanding₹[\d,]+\.\d{2}/);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('last sync from the billing system');
    await page.getByRole('img', { name: /Dues by due date/ }).waitFor();
    await page.getByRole('img', { name: /Billing in the last 12 months/ }).waitFor();
    // The chart's figures as a table, for those who cannot see it.
    await page.getByText('Show the figures as a table').first().click();
    await page.getByRole('rowheader', { name: 'Overdue 1–30 days' }).waitFor();
    await page.getByRole('heading', { name: 'By division' }).waitFor();
    await shot('dues-summary-en');
  });

  it('filters, pages by keyset, selects all matching, and opens a connection with its bill', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/org/dues/list`);
    const status = page.getByRole('status').filter({ hasText: /match/ });
    await status.waitFor();
    const all = Number((await status.textContent())!.match(/([\d,]+) connections? match/)![1]!.replaceAll(',', ''));
    expect(all).toBeGreaterThan(50);
    const firstPage = await page.locator('table.data tbody tr').count();
    expect(firstPage).toBe(50);
    const firstConsumer = await page.locator('table.data tbody tr td a').first().textContent();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(/Page 2 of/).waitFor();
    expect(await page.locator('table.data tbody tr td a').first().textContent()).not.toBe(firstConsumer);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText(/Page 1 of/).waitFor();
    // Filter to overdue, sorted by amount.
    await page.getByLabel('Status').selectOption('overdue');
    await page.getByLabel('Sort by').selectOption('amount');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=overdue/);
    await page.getByRole('status').filter({ hasText: /match/ }).waitFor();
    const overdueText = (await page.getByRole('status').filter({ hasText: /match/ }).textContent())!;
    const overdue = Number(overdueText.match(/([\d,]+) connections? match/)![1]!.replaceAll(',', ''));
    expect(overdue).toBeLessThan(all);
    const badges = await page.locator('table.data tbody .badge').allTextContents();
    expect(badges.filter((b) => b === 'Overdue').length).toBe(Math.min(50, overdue));
    await page.getByRole('button', { name: /Select all .* matching/ }).click();
    await page.getByText(/Selection \d+ saved: /).waitFor();
    expect((await page.getByText(/Selection \d+ saved: /).textContent())!).toContain(`${overdue.toLocaleString('en-IN')} connections`);
    await shot('dues-table-en');
    // The connection page.
    await page.locator('table.data tbody tr td a').first().click();
    await page.getByRole('heading', { name: /Latest bill/ }).waitFor();
    await page.getByRole('img', { name: /Consumption in the last 12 months/ }).waitFor();
    expect(await page.locator('table.data tbody tr').count()).toBe(12);
    const pdfLink = page.getByRole('link', { name: 'Download the bill (PDF, Hindi)' });
    const res = await page.request.get(new URL((await pdfLink.getAttribute('href'))!, portal.url).toString());
    expect(res.status()).toBe(200);
    expect((await res.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await shot('dues-connection-en');
  });

  it('lets the admin change an office’s alerts', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/org/alerts`);
    await page.getByRole('button', { name: 'Edit PATNA-DEO' }).click();
    await page.getByLabel('Remind this many days before the due date (1–15)').fill('7');
    await page.getByLabel('SMS').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Alerts of').filter({ hasText: 'saved' }).waitFor();
    await page.getByRole('cell', { name: '7 days before' }).waitFor();
    await shot('alerts-en');
  });

  it('passes axe on every dues page, in both languages', async () => {
    await login('edu.admin');
    const c = await portal.database.db
      .selectFrom('connection_dues as d')
      .innerJoin('organisations as o', 'o.id', 'd.org_id')
      .select('d.connection_id')
      .where('o.department_code', '=', 'BR-EDU')
      .orderBy('d.balance_paise', 'desc')
      .executeTakeFirstOrThrow();
    const failures: string[] = [];
    for (const lang of ['en', 'hi']) {
      await setLang(lang);
      for (const [name, p] of [['summary', '/org/dues'], ['table', '/org/dues/list?anomaly=any'], ['connection', `/org/dues/connections/${c.connection_id}`], ['alerts', '/org/alerts']] as const) {
        await page.goto(portal.url + p);
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        for (const d of await page.locator('details').all()) await d.evaluate((el) => el.setAttribute('open', ''));
        for (const v of await axeViolations(page)) failures.push(`${lang} ${p}: ${v}`);
        if (lang === 'hi') await shot(`dues-${name}-hi`);
      }
    }
    expect(failures).toEqual([]);
  });
});
