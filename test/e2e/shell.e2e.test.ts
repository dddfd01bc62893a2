import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

describe('web app shell in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  it('shows the discoms and counts from the API, in Indian number format', async () => {
    await page.goto(portal.url);
    await page.getByRole('heading', { name: 'Discoms' }).waitFor();
    const nb = page.getByRole('article', { name: /NBPDCL/ });
    await expect(nb.getByRole('row', { name: /Connections with dues/ }).textContent()).resolves.toMatch(/\d/);
    const overview = (await (await fetch(`${portal.url}/api/v1/overview`)).json()) as { discoms: { code: string; duesPaise: string; connections: number }[] };
    const nbApi = overview.discoms.find((d) => d.code === 'NBPDCL')!;
    const rupees = BigInt(nbApi.duesPaise) / 100n;
    const grouped = new Intl.NumberFormat('en-IN').format(rupees);
    await expect(nb.getByRole('row', { name: /Total dues/ }).textContent()).resolves.toContain(`₹${grouped}.`);
    await expect(nb.getByRole('row', { name: /^Connections \d/ }).textContent()).resolves.toContain(new Intl.NumberFormat('en-IN').format(nbApi.connections));
    await expect(page.getByTestId('last-synced').textContent()).resolves.toMatch(/IST$/);
  });

  it('switches to Hindi: translated text, lang attribute, and the choice kept on reload', async () => {
    await page.goto(portal.url);
    await page.getByRole('heading', { name: 'Discoms' }).waitFor();
    await page.getByRole('button', { name: /View in Hindi/ }).click();
    await page.getByRole('heading', { name: 'डिस्कॉम' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('hi');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('आपके सभी कनेक्शनों के बिजली बिल, एक ही जगह भुगतान');
    await expect(page.getByRole('navigation').textContent()).resolves.toContain('मुखपृष्ठ');
    await expect(page.getByRole('article', { name: /NBPDCL/ }).textContent()).resolves.toContain('कुल बकाया');
    expect(await page.title()).toBe('संग्रहण');
    await page.reload();
    await page.getByRole('heading', { name: 'डिस्कॉम' }).waitFor();
    await page.getByRole('button', { name: /View in English/ }).click();
    await page.getByRole('heading', { name: 'Discoms' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
  });

  it('marks every page of a demo "not for real money", in both languages', async () => {
    for (const path of ['/', '/login', '/discoms/SBPDCL', '/no-such-page']) {
      await page.goto(portal.url + path);
      const band = page.getByRole('complementary', { name: 'Demo install' });
      await band.waitFor();
      await expect(band.textContent()).resolves.toMatch(/^Demo — not for real money\. This install has .*a sandbox payment gateway,? and a sandbox bank\.$/);
    }
    await page.getByRole('button', { name: /View in Hindi/ }).click();
    await expect(page.getByRole('complementary', { name: 'डेमो इंस्टॉल' }).textContent()).resolves.toMatch(/^डेमो — असली पैसे के लिए नहीं।/);
    await page.getByRole('button', { name: /View in English/ }).click();
  });

  it('passes axe with no violations on every page, in both languages', async () => {
    for (const lang of ['en', 'hi']) {
      await page.goto(portal.url);
      await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
      for (const path of ['/', '/discoms/NBPDCL', '/no-such-page']) {
        await page.goto(portal.url + path);
        await page.locator('h1').waitFor();
        await page.waitForLoadState('networkidle');
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        expect(await axeViolations(page), `${lang} ${path}`).toEqual([]);
      }
    }
  });

  it('shows a discom’s hierarchy and policy', async () => {
    await page.goto(`${portal.url}/discoms/SBPDCL`);
    await page.getByRole('heading', { name: 'Payment policy' }).waitFor();
    await expect(page.locator('dl.policy').textContent()).resolves.toContain('1.5% a month');
    await expect(page.locator('dl.policy').textContent()).resolves.toContain('9 to 11 digits');
    await page.getByText('Patna (PESU) circle: 3 divisions').click();
    await page.getByText('Kankarbagh (').waitFor({ state: 'visible' });
    expect(await page.getByText('Rajendra Nagar (').isVisible()).toBe(true);
  });

  it('shows a clear error with the request id when the API fails, and recovers on retry', async () => {
    let fail = true;
    await page.route('**/api/v1/overview', async (route) => {
      if (!fail) return route.continue();
      await route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'NOT_READY', message: { en: 'The service is not ready.', hi: 'सेवा अभी तैयार नहीं है।' }, details: [], requestId: 'req-42' } }),
      });
    });
    await page.goto(portal.url);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('The service is not ready.');
    await expect(alert.textContent()).resolves.toContain('req-42');
    fail = false;
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Discoms' }).waitFor();
  });
});
