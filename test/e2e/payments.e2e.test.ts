import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../../src/adapters/billing-system/simulator.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import { runPostings } from '../../src/modules/payments/index.ts';
import { sql } from 'kysely';
import { Client } from '../helpers/http.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

// SCREENSHOTS=dir keeps a PNG of every page visited, to look at.
const shots = process.env.SCREENSHOTS;

// Each test walks several pages and runs axe: on a busy machine that takes more than the default minute.
const SLOW = 180_000;

const rupeesText = (s: string) => BigInt(s.replace(/[₹,\s]/g, '').replace('.', ''));

describe('consolidated payments in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let batchPath = '';

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
  /** A fresh code of a demo user's authenticator (the last step used is forgotten, so a code may repeat). */
  const totpNow = async (loginId: string) => {
    await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
    return totpCode(DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!, stepAt(new Date()));
  };
  const loginWithTotp = async (loginId: string) => {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    const { stage, csrfToken } = (await r.json()) as { stage: string; csrfToken: string };
    if (stage === 'totp') {
      const t = await page.request.post(`${portal.url}/api/v1/auth/totp`, { data: { code: await totpNow(loginId) }, headers: { 'x-csrf-token': csrfToken } });
      expect(t.status()).toBe(200);
    }
  };
  const shot = async (name: string) => {
    if (!shots) return;
    await page.evaluate(async () => {
      const fonts = (globalThis as unknown as { document: { fonts: { load(f: string, t: string): Promise<unknown>; ready: Promise<unknown> } } }).document.fonts;
      await Promise.all(['400', '700'].map((w) => fonts.load(`${w} 16px "Noto Sans Devanagari"`, 'कबक')));
      await fonts.ready;
    });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  /** The page at desktop width and on a 390×844 phone. */
  const shotBoth = async (name: string) => {
    if (!shots) return;
    await shot(name);
    const size = page.viewportSize();
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(`${name}-phone`);
    if (size) await page.setViewportSize(size);
  };
  const setLang = async (lang: string) => {
    await page.goto(portal.url);
    await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
  };
  const axe = async (where: string) => {
    await page.waitForLoadState('networkidle');
    expect(await axeViolations(page), where).toEqual([]);
  };
  /** Chooses the first `n` rows of the dues table (bills due, not yet overdue) and opens the new payment. */
  const chooseRows = async (n: number, payLabel: string, shotName: string, query = '') => {
    await page.goto(`${portal.url}/org/dues/list?status=due${query}`);
    await page.locator('table.data tbody tr').first().waitFor();
    // Rows an open payment holds cannot be chosen (their boxes are disabled).
    const free = page.locator('table.data tbody tr').filter({ has: page.locator('input[type=checkbox]:not([disabled])') });
    const consumers: string[] = [];
    for (let i = 0; i < n; i++) {
      await free.nth(i).locator('input[type=checkbox]').check();
      consumers.push((await free.nth(i).locator('td a').first().textContent())!);
    }
    await page.getByRole('status').filter({ hasText: new RegExp(`^${n}\\D`) }).waitFor();
    await shot(shotName);
    await page.getByRole('button', { name: payLabel }).click();
    await page.waitForURL(/\/payments\/new$/);
    return consumers;
  };

  it('chooses rows, sees the quote, edits an amount, creates the payment, pays it in the sandbox and sees it paid with receipts', async () => {
    await login('edu.admin');
    const consumers = await chooseRows(3, 'Pay selected', 'dues-chosen-en');
    await page.getByRole('heading', { name: 'Make a payment', level: 1 }).waitFor();
    const totals = page.getByRole('list', { name: 'Totals' });
    await totals.waitFor();
    await expect(totals.textContent()).resolves.toMatch(/Total to pay₹[\d,]+\.\d{2}for 3 connections/);
    await expect(totals.textContent()).resolves.toContain('ApprovalNot needed');
    await expect(totals.textContent()).resolves.toContain('Rebate gained by paying now');
    for (const c of consumers) await page.getByRole('rowheader', { name: new RegExp(c) }).waitFor();

    // An amount that is not one is caught at once; a real one re-prices the batch.
    const total = rupeesText((await page.getByTestId('quote-total').textContent())!);
    const first = page.getByLabel(`Amount to pay for ${consumers[0]} (₹)`);
    const was = await first.inputValue();
    await first.fill('12.345');
    await page.getByText('Enter rupees, such as 1234 or 1234.50.').waitFor();
    await expect(page.getByRole('button', { name: 'Create payment' }).isDisabled()).resolves.toBe(true);
    const more = (rupeesText(was) + 10050n).toString(); // ₹100.50 more: the rest is advance credit
    await first.fill(`${more.slice(0, -2)}.${more.slice(-2)}`);
    const want = `₹${new Intl.NumberFormat('en-IN').format((total + 10050n) / 100n)}.${((total + 10050n) % 100n).toString().padStart(2, '0')}`;
    await page.getByTestId('quote-total').filter({ hasText: new RegExp(`^${want.replace(/[.]/g, '\\.')}$`) }).waitFor();
    await axe('new payment');
    await shot('payment-new-en');

    await page.getByLabel('Budget head').fill('2801-80-800');
    await page.getByLabel('Sanction reference').fill('EDU/2026/114');
    const createRequest = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/org/payments/batches'));
    await page.getByRole('button', { name: 'Create payment' }).click();
    expect((await createRequest).headers()['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await page.waitForURL(/\/payments\/\d+$/);
    batchPath = new URL(page.url()).pathname;
    await page.getByRole('heading', { name: /^Payment PB\d{8}$/ }).waitFor();
    await page.locator('.status-line').getByText('Ready to pay').waitFor();
    await page.getByText('2801-80-800').waitFor();
    await shot('payment-ready-en');

    // Pay now posts the checkout form to the (sandbox) gateway; the tester chooses Success.
    await page.getByRole('button', { name: 'Pay now' }).click();
    await page.waitForURL(/\/sandbox\/razorpay\/v1\/checkout\/embedded/);
    await shot('payment-sandbox');
    await page.getByRole('button', { name: /Success/ }).click();
    await page.waitForURL(/\/payments\/\d+\?result=paid$/);
    expect(new URL(page.url()).pathname).toBe(batchPath);
    await page.getByText('Payment received. The gateway confirmed it').waitFor();
    await page.locator('.status-line').getByText('Paid', { exact: true }).waitFor();
    const items = page.getByRole('region', { name: 'Connections' });
    await items.locator('tbody tr').first().waitFor();
    const receiptNos = await items.locator('td.receipt-no a').allTextContents();
    expect(receiptNos).toHaveLength(3);
    for (const r of receiptNos) expect(r).toMatch(/^[A-Z]+\/\d{4}-\d{2}\/\d{8}$/);
    await page.getByText('3 receipts issued.').waitFor();
    await items.getByText('Sending to billing').first().waitFor();

    // The billing system takes the postings: the page sees it by itself (it polls while any wait).
    await runPostings(portal.database.db, new BillingSimulator(portal.database));
    await expect(items.getByText('Posted in billing').first().waitFor({ timeout: 10_000 })).resolves.toBeUndefined();
    await page.getByRole('list', { name: 'Sent to the billing system' }).getByText('Posted in billing').waitFor();
    await axe('status page');
    await shot('payment-paid-en');

    // The receipts, in the page's language.
    const links = [
      await page.getByRole('link', { name: 'Consolidated receipt (PDF)' }).getAttribute('href'),
      await page.getByRole('link', { name: 'All receipts (ZIP)' }).getAttribute('href'),
      await items.getByRole('link', { name: `Receipt ${receiptNos[0]} (PDF)` }).getAttribute('href'),
    ];
    const got: string[] = [];
    for (const href of links) {
      expect(href).toMatch(/lang=en$/);
      const res = await page.request.get(new URL(href!, portal.url).toString());
      got.push(`${res.status()} ${(await res.body()).subarray(0, 4).toString('latin1')}`);
    }
    expect(got).toEqual(['200 %PDF', '200 PK\u0003\u0004', '200 %PDF']);
  }, SLOW);

  it('lists the payment in the history, filters it by status, and passes axe', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/payments`);
    await page.getByRole('heading', { name: 'Payment history' }).waitFor();
    await page.getByRole('heading', { name: 'Awaiting approval' }).waitFor();
    await page.getByText('No payment is waiting for approval.').waitFor();
    const history = page.getByRole('region', { name: 'Payment history' });
    const row = history.locator('tbody tr').first();
    await row.getByText('Paid', { exact: true }).waitFor();
    await expect(row.getByRole('link').getAttribute('href')).resolves.toBe(batchPath);
    await axe('history');
    await shot('payments-history-en');
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/status=cancelled/);
    await page.getByText('No payments with this status.').waitFor();
  }, SLOW);

  it('speaks Hindi: the status page, the history and a new payment', async () => {
    await login('edu.admin');
    await setLang('hi');
    await page.goto(portal.url + batchPath);
    await page.getByRole('heading', { name: /^भुगतान PB\d{8}$/ }).waitFor();
    await page.locator('.status-line').getByText('भुगतान हो गया').waitFor();
    await page.getByRole('link', { name: 'समेकित रसीद (PDF)' }).waitFor();
    expect(await page.getByRole('link', { name: 'समेकित रसीद (PDF)' }).getAttribute('href')).toMatch(/lang=hi$/);
    await axe('status page (hi)');
    await shot('payment-paid-hi');
    await page.goto(`${portal.url}/payments`);
    await page.getByRole('heading', { name: 'भुगतान इतिहास' }).waitFor();
    await axe('history (hi)');
    await shot('payments-history-hi');
    await chooseRows(2, 'चुने हुए का भुगतान करें', 'dues-chosen-hi');
    await page.getByRole('list', { name: 'योग' }).waitFor();
    await expect(page.getByRole('list', { name: 'योग' }).textContent()).resolves.toContain('आवश्यक नहीं');
    await axe('new payment (hi)');
    await shot('payment-new-hi');
  }, SLOW);

  it('sends a payment above the limit to an approver, who approves it with an authenticator code; a failed payment is retried or cancelled', async () => {
    // The education department's limit is ₹5 lakh; a lower one makes a small batch need approval.
    await portal.database.db.updateTable('organisations').set({ approval_threshold_paise: 100_000n }).where('department_code', '=', 'BR-EDU').execute();
    try {
      await login('edu.maker');
      await chooseRows(2, 'Pay selected', 'dues-chosen-maker');
      const totals = page.getByRole('list', { name: 'Totals' });
      await totals.getByText('Needed', { exact: true }).waitFor();
      await expect(totals.textContent()).resolves.toContain('above your organisation\'s limit of ₹1,000.00');
      await page.getByRole('button', { name: 'Create payment' }).click();
      await page.waitForURL(/\/payments\/\d+$/);
      const batch = new URL(page.url()).pathname;
      await page.locator('.status-line').getByText('Awaiting approval').waitFor();
      // The maker may cancel but not approve, and cannot pay yet.
      await page.getByRole('button', { name: 'Cancel this payment' }).waitFor();
      expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Pay now' }).count()).toBe(0);

      await context.clearCookies();
      await loginWithTotp('edu.approver');
      await page.goto(`${portal.url}/payments`);
      const awaiting = page.getByRole('region', { name: 'Awaiting approval' });
      await awaiting.getByRole('link', { name: /^PB\d{8}$/ }).first().click();
      await page.waitForURL(new RegExp(`${batch}$`));
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      // Rejecting needs a reason; a code is checked before it is sent.
      await page.getByRole('button', { name: 'Reject' }).click();
      await page.getByText('Enter the 6-digit code.').waitFor();
      await page.getByText('Give the reason for rejecting.').waitFor();
      await axe('approval form');
      await shot('payment-approve-en');
      await page.getByLabel('Code from your authenticator app').fill(await totpNow('edu.approver'));
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Approved. It can be paid now.').waitFor();
      await page.locator('.status-line').getByText('Ready to pay').waitFor();
      await page.locator('dl.summary').getByText(/^Sanjay Mishra \(DDO, Patna\), /).waitFor();
      await page.getByRole('button', { name: 'Pay now' }).waitFor();
      // And the live region said so.
      await expect(page.locator('p.visually-hidden[role=status]').textContent()).resolves.toBe('Status changed: Ready to pay.');

      // A failed payment takes no money: the batch is ready to pay again, the failure says why.
      await page.getByRole('button', { name: 'Pay now' }).click();
      await page.waitForURL(/\/sandbox\/razorpay\/v1\/checkout\/embedded/);
      await page.getByRole('button', { name: /Failure/ }).click();
      await page.waitForURL(new RegExp(`${batch}\\?result=failed$`));
      await page.getByText('The payment failed and no money was taken.').waitFor();
      await page.locator('.status-line').getByText('Ready to pay').waitFor();
      const failed = page.getByRole('region', { name: 'Payments at the gateway' }).locator('tbody tr');
      await failed.getByText('Failed', { exact: true }).waitFor();
      expect((await failed.locator('.field-error').textContent())!.length).toBeGreaterThan(3);
      await page.getByRole('button', { name: 'Check status' }).click();
      await page.getByText('Asked the gateway: status is now Ready to pay.').waitFor();
      await axe('failed payment');
      await shot('payment-failed-en');
      // And cancelled: its connections are free again.
      await page.getByRole('button', { name: 'Cancel this payment' }).click();
      await page.getByLabel('Reason for cancelling (optional)').fill('Paid by cheque instead');
      await page.getByRole('button', { name: 'Yes, cancel it' }).click();
      await page.getByText('The payment was cancelled.').waitFor();
      await page.locator('.status-line').getByText('Cancelled').waitFor();
      await page.getByText('Paid by cheque instead').waitFor();
      expect(await page.getByRole('button', { name: 'Pay now' }).count()).toBe(0);
    } finally {
      await portal.database.db.updateTable('organisations').set({ approval_threshold_paise: 50_000_000n }).where('department_code', '=', 'BR-EDU').execute();
    }
  }, SLOW);

  it('marks rows an open payment holds: they cannot be chosen, the connection page says so, and "all matching" leaves them out before Create', async () => {
    const api = await new Client(portal.app, '10.8.1.1').login('edu.admin', DEMO_PASSWORD);
    const day = (await api.get('/api/v1/org/dues?limit=1')).json<{ day: string }>().day;
    // A due connection in an office with other due connections: one is held, the office's others stay free.
    const { rows } = await sql<{ connection_id: bigint; consumer_no: string; office_id: bigint }>`
      SELECT d.connection_id, d.consumer_no, d.office_id FROM connection_dues d JOIN organisations o ON o.id = d.org_id AND o.department_code = 'BR-EDU'
       WHERE d.balance_paise > 100000 AND d.due_key >= ${day}::date
         AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
         AND (SELECT count(*) FROM connection_dues x WHERE x.office_id = d.office_id AND x.balance_paise > 100000 AND x.due_key >= ${day}::date) BETWEEN 3 AND 60
       ORDER BY d.due_key, d.connection_id LIMIT 1`.execute(portal.database.db);
    const held = rows[0]!;
    const made = await api.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: held.connection_id.toString() }] }, { 'idempotency-key': `e2e-held-${Date.now()}` });
    expect(made.statusCode, made.body).toBe(201);
    const holder = made.json<{ id: string; reference: string }>();
    try {
      await login('edu.admin');
      for (const lang of ['en', 'hi'] as const) {
        if (lang === 'hi') await setLang('hi');
        await page.goto(`${portal.url}/org/dues/list?status=due&officeId=${held.office_id}`);
        const row = page.locator('table.data tbody tr').filter({ hasText: held.consumer_no });
        await row.waitFor();
        const mark = lang === 'en' ? `In payment ${holder.reference}` : `भुगतान ${holder.reference} में`;
        await expect(row.getByRole('link', { name: mark }).getAttribute('href')).resolves.toBe(`/payments/${holder.id}`);
        const box = row.getByRole('checkbox');
        expect(await box.isDisabled()).toBe(true);
        expect(await box.getAttribute('aria-describedby')).toBe(`held-${held.connection_id}`);
        await page.getByText(lang === 'en' ? 'Connections marked “In payment” are already in an open payment.' : '“भुगतान … में” चिह्नित कनेक्शन पहले से एक खुले भुगतान में हैं।', { exact: false }).waitFor();
        // "Choose every connection on this page" takes the free rows only.
        await page.locator('thead input[type=checkbox]').check();
        expect(await box.isChecked()).toBe(false);
        await page.locator('thead input[type=checkbox]').uncheck();
        await axe(`dues table with a held row (${lang})`);
        await shotBoth(`dues-held-${lang}`);

        await row.getByRole('link', { name: held.consumer_no }).click();
        const note = page.getByRole('note').filter({ hasText: holder.reference });
        await note.waitFor();
        await expect(note.textContent()).resolves.toContain(lang === 'en' ? 'This connection is already in an open payment:' : 'यह कनेक्शन पहले से एक खुले भुगतान में है:');
        await expect(note.getByRole('link', { name: holder.reference }).getAttribute('href')).resolves.toBe(`/payments/${holder.id}`);
        await axe(`connection page, held (${lang})`);
        await shotBoth(`connection-held-${lang}`);

        // All matching: the selection says how many a payment holds, and the new payment leaves them out before Create.
        await page.goto(`${portal.url}/org/dues/list?status=due&officeId=${held.office_id}`);
        await page.getByRole('button', { name: lang === 'en' ? /^Select all \d+ matching$/ : /^मेल खाते सभी \d+ चुनें$/ }).click();
        await page.getByText(lang === 'en' ? '1 of them is already in an open payment: a payment made from this selection leaves it out.' : 'इनमें से 1 कनेक्शन पहले से एक खुले भुगतान में है: इस चयन से बना भुगतान उसे छोड़ देगा।', { exact: false }).waitFor();
        await page.getByRole('link', { name: lang === 'en' ? /^Make a payment of all \d+$/ : /^सभी \d+ का भुगतान करें$/ }).click();
        await page.waitForURL(/\/payments\/new\?selection=\d+$/);
        const left = page.getByRole('note').filter({ hasText: holder.reference });
        await left.waitFor();
        await expect(left.textContent()).resolves.toBe(
          lang === 'en'
            ? `1 connection of the selection is already in an open payment and is left out. Held by ${holder.reference}.`
            : `चयन का 1 कनेक्शन पहले से एक खुले भुगतान में है और छोड़ दिया गया है। इन भुगतानों में: ${holder.reference}।`,
        );
        await expect(page.getByRole('button', { name: lang === 'en' ? 'Create payment' : 'भुगतान बनाएँ', exact: true }).isEnabled()).resolves.toBe(true);
        expect(await page.getByRole('rowheader', { name: held.consumer_no }).count()).toBe(0);
        await axe(`new payment from a selection with a held row (${lang})`);
        await shotBoth(`payment-new-held-${lang}`);
      }
    } finally {
      await api.post(`/api/v1/org/payments/batches/${holder.id}/cancel`, {});
    }
  }, SLOW);

  it('filters the dues table by discom, warns that a payment of two discoms cannot be paid by challan, and splits it into one payment per discom', async () => {
    const made: string[] = [];
    try {
      await login('edu.admin');
      for (const lang of ['en', 'hi'] as const) {
        if (lang === 'hi') await setLang('hi');
        const en = lang === 'en';
        await page.goto(`${portal.url}/org/dues/list?status=due`);
        await page.locator('table.data tbody tr').first().waitFor();
        // One row of each discom, chosen across a change of the discom filter (choices are kept).
        for (const code of ['NBPDCL', 'SBPDCL']) {
          await page.getByLabel(en ? 'Discom' : 'डिस्कॉम', { exact: true }).selectOption(code);
          await page.getByRole('button', { name: en ? 'Apply' : 'लागू करें' }).click();
          await page.waitForURL(new RegExp(`discom=${code}`));
          // The discom column shows the filter's discom only (once the new page has come).
          await expect.poll(async () => [...new Set(await page.locator('table.data tbody tr td:nth-child(3)').allTextContents())]).toEqual([code]);
          const rows = page.locator('table.data tbody tr').filter({ has: page.locator('input[type=checkbox]:not([disabled])') });
          await rows.first().locator('input[type=checkbox]').check();
          if (code === 'NBPDCL') {
            await axe(`dues table filtered by discom (${lang})`);
            await shotBoth(`dues-discom-${lang}`);
          }
        }
        await page.getByRole('button', { name: en ? 'Pay selected' : 'चुने हुए का भुगतान करें' }).click();
        await page.waitForURL(/\/payments\/new$/);
        const warning = page.getByRole('region', { name: en ? 'Connections of more than one discom' : 'एक से अधिक डिस्कॉम के कनेक्शन' });
        await warning.waitFor();
        await expect(warning.textContent()).resolves.toContain(en ? 'not by RTGS/NEFT: a challan is for one discom’s connections' : 'पर RTGS/NEFT से नहीं: एक चालान एक ही डिस्कॉम के कनेक्शनों का होता है');
        const parts = await warning.locator('li').allTextContents();
        expect(parts.map((x) => x.replace(/₹[\d,.]+/, '₹…'))).toEqual(en ? ['NBPDCL: 1 connection, ₹…', 'SBPDCL: 1 connection, ₹…'] : ['NBPDCL: 1 कनेक्शन, ₹…', 'SBPDCL: 1 कनेक्शन, ₹…']);
        await axe(`new payment of two discoms (${lang})`);
        await shotBoth(`payment-new-mixed-${lang}`);

        const keys: string[] = [];
        page.on('request', (r) => {
          if (r.method() === 'POST' && r.url().endsWith('/api/v1/org/payments/batches')) keys.push(r.headers()['idempotency-key']!);
        });
        await page.getByRole('button', { name: en ? 'Create one payment per discom' : 'हर डिस्कॉम का अलग भुगतान बनाएँ' }).click();
        const results = page.getByRole('region', { name: en ? 'One payment per discom' : 'हर डिस्कॉम का अलग भुगतान' });
        await results.getByText(en ? 'Every discom’s payment is created. Open each one to pay it.' : 'हर डिस्कॉम का भुगतान बन गया है। चुकाने के लिए हर एक को खोलें।').waitFor();
        const links = results.getByRole('link');
        expect(await links.count()).toBe(2);
        const texts = await links.allTextContents();
        expect(texts[0]).toMatch(en ? /^NBPDCL: payment PB\d{8} created for ₹[\d,]+\.\d{2}\.$/ : /^NBPDCL: ₹[\d,]+\.\d{2} का भुगतान PB\d{8} बना।$/);
        expect(await results.locator('.badge').allTextContents()).toEqual(en ? ['Ready to pay', 'Ready to pay'] : ['भुगतान के लिए तैयार', 'भुगतान के लिए तैयार']);
        expect(texts[1]).toMatch(/^SBPDCL: /);
        expect(keys).toHaveLength(2);
        expect(new Set(keys).size).toBe(2);
        for (const l of await links.all()) made.push((await l.getAttribute('href'))!.split('/').pop()!);
        expect(await page.getByRole('button', { name: en ? 'Create payment' : 'भुगतान बनाएँ', exact: true }).count()).toBe(0);
        await axe(`split results (${lang})`);
        await shotBoth(`payment-split-${lang}`);
        // Each payment is of one discom: its challan is offered.
        await links.first().click();
        await page.waitForURL(/\/payments\/\d+$/);
        await page.getByRole('button', { name: en ? 'Pay by RTGS/NEFT (challan)' : 'RTGS/NEFT से भुगतान करें (चालान)' }).waitFor();
      }
    } finally {
      const api = await new Client(portal.app, '10.8.1.2').login('edu.admin', DEMO_PASSWORD);
      for (const id of made) await api.post(`/api/v1/org/payments/batches/${id}/cancel`, {});
    }
  }, SLOW);

  it('while a gateway payment waits, offers Check status and not Pay now; a checkout nobody paid is ready to pay again', async () => {
    const api = await new Client(portal.app, '10.8.1.3').login('edu.admin', DEMO_PASSWORD);
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN organisations o ON o.id = d.org_id AND o.department_code = 'BR-EDU'
       WHERE d.balance_paise > 100000 AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id DESC LIMIT 2`.execute(portal.database.db);
    const batchOf = async (i: number) => {
      const r = await api.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: rows[i]!.connection_id.toString() }] }, { 'idempotency-key': `e2e-pending-${i}-${Date.now()}` });
      expect(r.statusCode, r.body).toBe(201);
      const id = r.json<{ id: string }>().id;
      const co = await api.post(`/api/v1/org/payments/batches/${id}/checkout`);
      expect(co.statusCode, co.body).toBe(200);
      return { id, fields: co.json<{ fields: Record<string, string> }>().fields };
    };
    // One payer chose "pending" at the gateway (captured an hour later); another closed the gateway's window.
    await portal.payments.sandbox!.setControl({ pendingSeconds: 3600 });
    const pending = await batchOf(0);
    const res = await portal.app.inject({ method: 'POST', url: '/sandbox/razorpay/v1/checkout/pay', payload: new URLSearchParams({ ...pending.fields, outcome: 'pending', method: 'upi' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBeLessThan(400);
    const abandoned = await batchOf(1);

    await login('edu.admin');
    for (const lang of ['en', 'hi'] as const) {
      if (lang === 'hi') await setLang('hi');
      const en = lang === 'en';
      await page.goto(`${portal.url}/payments/${pending.id}`);
      await page.locator('.status-line').getByText(en ? 'Payment in progress' : 'भुगतान जारी', { exact: true }).waitFor();
      await page.getByRole('button', { name: en ? 'Check status' : 'स्थिति जाँचें' }).waitFor();
      expect(await page.getByRole('button', { name: en ? 'Pay now' : 'अभी भुगतान करें' }).count()).toBe(0);
      await page.getByRole('note').filter({ hasText: en ? 'A payment is waiting at the gateway, so it cannot be paid again now.' : 'गेटवे पर एक भुगतान प्रतीक्षा में है' }).waitFor();
      await page.getByRole('button', { name: en ? 'Check status' : 'स्थिति जाँचें' }).click();
      await page.getByText(en ? 'Asked the gateway: status is now Payment in progress.' : 'गेटवे से पूछा गया: स्थिति अब भुगतान जारी है।').waitFor();
      expect(await page.getByRole('button', { name: en ? 'Pay now' : 'अभी भुगतान करें' }).count()).toBe(0);
      await axe(`payment waiting at the gateway (${lang})`);
      await shotBoth(`payment-pending-${lang}`);
    }
    // Nobody paid the other: Check status makes it ready, and Pay now comes back.
    await page.goto(`${portal.url}/payments/${abandoned.id}`);
    await page.getByRole('button', { name: 'स्थिति जाँचें' }).click();
    await page.getByRole('button', { name: 'अभी भुगतान करें' }).waitFor();
    expect(await page.getByRole('note').filter({ hasText: 'गेटवे पर एक भुगतान प्रतीक्षा में है' }).count()).toBe(0);
    await axe('checkout nobody paid, ready again (hi)');
    await shotBoth('payment-ready-again-hi');
  }, SLOW);

  it('shows the discom the postings that wait on a billing system that is down, and retries them', async () => {
    // A payment made and paid through the API and the sandbox's pages, while the billing system is down.
    const api = await new Client(portal.app, '10.8.0.1').login('edu.admin', DEMO_PASSWORD);
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN organisations o ON o.id = d.org_id AND o.department_code = 'BR-EDU'
        JOIN connections c ON c.id = d.connection_id JOIN discoms dc ON dc.id = c.discom_id AND dc.code = 'NBPDCL'
       WHERE d.balance_paise > 0 AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id LIMIT 2`.execute(portal.database.db);
    // NBPDCL's connections: NBPDCL's collection officer sees and retries their postings.
    const made = await api.req('POST', '/api/v1/org/payments/batches', { items: rows.map((r) => ({ connectionId: r.connection_id.toString() })) }, { 'idempotency-key': 'e2e-postings-down-1' });
    expect(made.statusCode, made.body).toBe(201);
    const co = (await api.post(`/api/v1/org/payments/batches/${made.json<{ id: string }>().id}/checkout`)).json<{ action: string; fields: Record<string, string> }>();
    const form = (url: string, fields: Record<string, string>) =>
      portal.app.inject({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const paid = await form('/sandbox/razorpay/v1/checkout/pay', { ...co.fields, outcome: 'success', method: 'upi' });
    const back = Object.fromEntries([...paid.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    expect((await form(co.fields.callback_url!, back)).headers.location).toContain('result=paid');
    await sql`UPDATE billing_sim.control SET down_until = now() + interval '1 hour'`.execute(portal.database.db);
    const billing = new BillingSimulator(portal.database);
    expect((await runPostings(portal.database.db, billing)).deferred).toBeGreaterThan(0);

    await loginWithTotp('co.nbpdcl');
    await page.goto(`${portal.url}/discom/postings`);
    await page.getByRole('heading', { name: 'Postings that need attention' }).waitFor();
    await expect.poll(() => page.locator('table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('table tbody').textContent()).toContain('unavailable');
    await axe('discom postings');
    await shot('discom-postings');
    await sql`UPDATE billing_sim.control SET down_until = NULL`.execute(portal.database.db);
    await page.getByRole('button', { name: /Retry all/ }).click();
    await page.getByText(/will be sent again now/).waitFor();
    await runPostings(portal.database.db, billing);
    await page.reload();
    await page.getByText('Nothing needs attention').waitFor();
  }, SLOW);
});
