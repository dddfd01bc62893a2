import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingSimulator } from '../../src/adapters/billing-system/simulator.ts';
import { httpSend } from '../../src/adapters/gateway/sandbox.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { ONLINE_COLLECTIONS, tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import { runPostings } from '../../src/modules/payments/index.ts';
import { Client } from '../helpers/http.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

// SCREENSHOTS=dir keeps a PNG of every page visited, to look at.
const shots = process.env.SCREENSHOTS;
const SLOW = 180_000;
/** The holding company's admin (BSPHCL): both discoms' collections, and the gateway's settlements (one payout pays both). */
const HOLDING = 'admin.discom';

const paiseOf = (s: string) => BigInt(s.replace(/[₹,\s]/g, '').replace('.', ''));
const inr = (p: bigint) => `₹${new Intl.NumberFormat('en-IN').format(p / 100n)}.${(p % 100n).toString().padStart(2, '0')}`;
const rupees = (p: bigint) => `${p / 100n}.${(p % 100n).toString().padStart(2, '0')}`;
const istDay = (offsetDays = 0) => new Date(Date.now() + 5.5 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
const enDate = (day: string) => new Intl.DateTimeFormat('en-IN', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(`${day}T00:00:00Z`));

describe('collections dashboard, daily report, gateway settlements and where the money is, in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pump: NodeJS.Timeout | undefined;
  let pumping: Promise<unknown> = Promise.resolve();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'collections-e2e-'));
  // Shared by the steps below, in order.
  let onlinePath = '';
  let onlinePaise = 0n;
  let challanBatchId = '';
  let challanRef = '';
  let shortPaise = 0n;
  let settlementId = '';

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(1500), launchChromium()]);
    await tagDemoConnections(portal.database);
    // Small batches here; no approver in the way.
    await portal.database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('department_code', '=', 'BR-EDU').execute();
    // As `serve` does: the sandbox gateway delivers its webhooks (Smart Collect credits) every second.
    pump = setInterval(() => {
      pumping = pumping.then(() => portal.payments.sandbox?.pump(httpSend)).catch(() => undefined);
    }, 1000);
    if (shots) fs.mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    clearInterval(pump);
    await pumping;
    await browser?.close();
    await portal?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, locale: 'en-IN', timezoneId: 'Asia/Kolkata' });
    page = await context.newPage();
  });

  const login = async (loginId: string) => {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    expect(r.status()).toBe(200);
  };
  const loginWithTotp = async (loginId: string) => {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    const { stage, csrfToken } = (await r.json()) as { stage: string; csrfToken: string };
    expect(stage).toBe('totp');
    // A fresh code (the last step used is forgotten, so a code may repeat).
    await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
    const code = totpCode(DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!, stepAt(new Date()));
    const t = await page.request.post(`${portal.url}/api/v1/auth/totp`, { data: { code }, headers: { 'x-csrf-token': csrfToken } });
    expect(t.status()).toBe(200);
  };
  const shot = async (name: string) => {
    if (!shots) return;
    await page.evaluate(async () => {
      const fonts = (globalThis as unknown as { document: { fonts: { load(f: string, t: string): Promise<unknown>; ready: Promise<unknown> } } }).document.fonts;
      await Promise.all(['400', '700'].map((w) => fonts.load(`${w} 16px "Noto Sans Devanagari"`, 'कबक')));
      await fonts.ready;
    });
    await page.screenshot({ path: path.join(shots, `collections-${name}.png`), fullPage: true });
  };
  const setLang = async (lang: string) => {
    await page.goto(portal.url);
    await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
  };
  const axe = async (where: string) => {
    await page.waitForLoadState('networkidle');
    expect(await axeViolations(page), where).toEqual([]);
  };
  /** The first bytes of a link's download, with its status. */
  const fetchLink = async (href: string | null) => {
    const res = await page.request.get(new URL(href!, portal.url).toString());
    return { status: res.status(), body: await res.body() };
  };
  /** A definition list as { term: description }. */
  const terms = async (dl: ReturnType<Page['locator']>) =>
    Object.fromEntries(await dl.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, (dt as unknown as { nextElementSibling: { textContent: string } }).nextElementSibling.textContent])));

  it('the payer pays online, and the batch page shows where the money is as it moves', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/org/dues/list?status=due`);
    const rows = page.locator('table.data tbody tr');
    await rows.first().waitFor();
    for (const i of [0, 1]) await rows.nth(i).locator('input[type=checkbox]').check();
    await page.getByRole('button', { name: 'Pay selected' }).click();
    await page.waitForURL(/\/payments\/new$/);
    await page.getByRole('button', { name: 'Create payment' }).click();
    await page.waitForURL(/\/payments\/\d+$/);
    onlinePath = new URL(page.url()).pathname;
    await page.locator('.status-line').getByText('Ready to pay').waitFor();
    // Not paid yet: nothing to trace.
    expect(await page.getByTestId('money-trail').count()).toBe(0);
    await page.getByRole('button', { name: 'Pay now' }).click();
    await page.waitForURL(/\/sandbox\/razorpay\/v1\/checkout\/embedded/);
    await page.getByRole('button', { name: /Success/ }).click();
    await page.waitForURL(/\/payments\/\d+\?result=paid$/);
    await page.locator('.status-line').getByText('Paid', { exact: true }).waitFor();
    onlinePaise = paiseOf((await page.locator('dl.summary dd').first().textContent())!);
    expect(onlinePaise).toBeGreaterThan(0n);

    const trail = page.getByRole('region', { name: 'Where your money is' });
    await trail.waitFor();
    const leg = (k: string) => trail.getByTestId(`leg-${k}`);
    await leg('received').getByText('Done', { exact: true }).waitFor();
    expect(await leg('received').textContent()).toContain(`${inr(onlinePaise)} received through the gateway`);
    await leg('banked').getByText('Waiting', { exact: true }).waitFor();
    await leg('banked').getByText("Waiting for the gateway to pay the money into the discom's account", { exact: false }).waitFor();
    await leg('posted').getByText('Waiting', { exact: true }).waitFor();
    // The billing system takes the postings; the page polls while any wait, and the step completes.
    await runPostings(portal.database.db, new BillingSimulator(portal.database));
    await leg('posted').getByText('Done', { exact: true }).waitFor({ timeout: 15_000 });
    await leg('posted').getByText(/^All \d+ postings acknowledged by the billing system: ₹[\d,]+\.\d{2} of payments and rebate credits\.$/).waitFor();
    await axe('paid batch with where the money is');
    await shot('payer-trail-en');

    await setLang('hi');
    await page.goto(portal.url + onlinePath);
    const hi = page.getByRole('region', { name: 'आपकी राशि कहाँ है' });
    await hi.getByTestId('leg-posted').getByText('पूरा', { exact: true }).waitFor();
    await hi.getByTestId('leg-banked').getByText('प्रतीक्षा में', { exact: true }).waitFor();
    await axe('paid batch with where the money is (hi)');
    await shot('payer-trail-hi');

    // And a challan whose transfer comes ₹1 short, held in the exception queue (made over the API: recon.e2e walks it in the browser).
    const api = await new Client(portal.app, '10.9.1.1').login('edu.admin', DEMO_PASSWORD);
    const { rows: free } = await sql<{ connection_id: bigint }>`
      SELECT d.connection_id FROM connection_dues d JOIN organisations o ON o.id = d.org_id AND o.department_code = 'BR-EDU'
       WHERE d.balance_paise > 100 AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY d.connection_id LIMIT 1`.execute(portal.database.db);
    const made = await api.req('POST', '/api/v1/org/payments/batches', { items: [{ connectionId: free[0]!.connection_id.toString() }] }, { 'idempotency-key': 'e2e-collections-challan-1' });
    expect(made.statusCode, made.body).toBe(201);
    challanBatchId = made.json<{ id: string }>().id;
    const challan = await api.post(`/api/v1/org/payments/batches/${challanBatchId}/challan`);
    expect(challan.statusCode, challan.body).toBeLessThan(300);
    const c = challan.json<{ vaNumber: string; amountPaise: string; batchReference: string }>();
    challanRef = c.batchReference;
    shortPaise = BigInt(c.amountPaise) - 100n;
    const sent = await api.post('/sandbox/bank/transfers', { vaNumber: c.vaNumber, amountPaise: shortPaise.toString(), channel: 'notification', payerName: 'DDO Patna Sadar' });
    expect(sent.json<{ status: string }>().status, sent.body).toBe('booked');
    await expect.poll(async () => (await portal.database.db.selectFrom('recon_exceptions').select('id').where('status', '=', 'open').execute()).length, { timeout: 20_000 }).toBe(1);
  }, SLOW);

  it('the holding company reads the collections dashboard of both discoms, chooses a period and exports a section', async () => {
    await loginWithTotp(HOLDING);
    await page.goto(`${portal.url}/discom/postings`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Collections' }).click();
    await page.waitForURL(/\/discom\/collections$/);
    await page.getByRole('heading', { name: 'Collections', level: 1 }).waitFor();
    const today = istDay();
    await page.getByText(`Payments received from ${enDate(istDay(-29))} to ${enDate(today)}. · Both discoms`).waitFor();
    // The payment, in the totals and by way of payment.
    const total = page.getByTestId('collected-total');
    expect((await total.textContent())!.replace(/\s+/g, ' ')).toBe(`Collected${inr(onlinePaise)}1 payment`);
    expect(await page.getByTestId('collected-online').textContent()).toBe(`Online (gateway)${inr(onlinePaise)}1 payment`);
    expect(await page.getByTestId('collected-rtgs_neft').textContent()).toBe('RTGS/NEFT (challan)₹0.000 payments');
    // What waits now: the short credit, no posting (all acknowledged), and tag requests, which an admin may review.
    const exceptions = page.getByTestId('open-exceptions');
    expect(await exceptions.textContent()).toContain(`${inr(shortPaise)}1 credit held in the exception queue`);
    expect(await exceptions.getByRole('link', { name: 'Open the exception queue' }).getAttribute('href')).toBe('/discom/recon');
    expect(await page.getByTestId('postings-waiting').textContent()).toContain('Waiting: 0 · Retrying: 0 · Refused: 0');
    expect(await page.getByTestId('postings-waiting').getByRole('link', { name: 'Open postings' }).getAttribute('href')).toBe('/discom/postings');
    expect(await page.getByTestId('tag-requests').getByRole('link', { name: 'Review tag requests' }).getAttribute('href')).toBe('/discom/tag-requests');

    // The chart's figures as a table: today has the payment.
    const chart = page.locator('figure.chart');
    await chart.getByText('Collections by day', { exact: true }).waitFor();
    await chart.getByText('Show the figures as a table').click();
    const day = chart.getByRole('row', { name: new RegExp(`^${enDate(today)} `) });
    expect((await day.textContent())!.replace(/\s+/g, '')).toBe(`${enDate(today)}${inr(onlinePaise)}₹0.00${inr(onlinePaise)}`.replace(/\s+/g, ''));
    const types = page.getByRole('region', { name: 'By organisation type' });
    expect(await types.getByRole('row', { name: /^State government department/ }).textContent()).toBe(`State government department1${inr(onlinePaise)}`);
    expect(await page.getByRole('region', { name: 'By circle and division' }).locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByRole('region', { name: 'Top organisations by dues' }).locator('tbody tr').count()).toBeGreaterThan(0);
    await axe('collections dashboard');
    await shot('dashboard-en');

    // Each section downloads for the range shown: CSV with its header, XLSX a workbook.
    const csv = await fetchLink(await page.getByRole('link', { name: 'CSV (Collections by day)' }).getAttribute('href'));
    expect(csv.status).toBe(200);
    const lines = csv.body.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
    expect(lines[0]).toBe('Day,Online (₹),RTGS/NEFT (₹)');
    expect(lines).toContain(`${today},${rupees(onlinePaise)},0.00`);
    const xlsx = await fetchLink(await page.getByRole('link', { name: 'XLSX (Top organisations by dues)' }).getAttribute('href'));
    expect(`${xlsx.status} ${xlsx.body.subarray(0, 2).toString('latin1')}`).toBe('200 PK');

    // A period the wrong way round is caught on the page; a period without payments says so.
    await page.getByLabel('From', { exact: true }).fill(today);
    await page.getByLabel('To', { exact: true }).fill(istDay(-1));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('The start date is after the end date.').waitFor();
    await axe('period refused');
    await page.getByLabel('From', { exact: true }).fill('2025-01-01');
    await page.getByLabel('To', { exact: true }).fill('2025-01-31');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/discom\/collections\?from=2025-01-01&to=2025-01-31$/);
    await page.getByText('Payments received from 1 Jan 2025 to 31 Jan 2025.').waitFor();
    expect((await total.textContent())!.replace(/\s+/g, ' ')).toBe('Collected₹0.000 payments');
    expect(await page.getByText('No payment was received in this period.').count()).toBe(3);
    await axe('collections, empty period');
    await shot('dashboard-empty-en');
    // A long period is drawn by month.
    await page.getByLabel('From', { exact: true }).fill(istDay(-120));
    await page.getByLabel('To', { exact: true }).fill(today);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('figure.chart').getByText('Collections by month', { exact: true }).waitFor();
    await shot('dashboard-months-en');
    await page.getByRole('button', { name: 'Last 30 days' }).click();
    await page.waitForURL(/\/discom\/collections$/);
    await page.locator('figure.chart').getByText('Collections by day', { exact: true }).waitFor();

    await setLang('hi');
    await page.goto(`${portal.url}/discom/collections`);
    await page.getByRole('heading', { name: 'संग्रह', level: 1 }).waitFor();
    expect((await page.getByTestId('collected-total').textContent())!.replace(/\s+/g, ' ')).toBe(`कुल संग्रह${inr(onlinePaise)}1 भुगतान`);
    await axe('collections dashboard (hi)');
    await shot('dashboard-hi');
  }, SLOW);

  it('the daily reconciliation report shows the day, downloads as PDF in both languages and XLSX, and takes another day', async () => {
    await loginWithTotp(HOLDING);
    await page.goto(`${portal.url}/discom/recon`);
    await page.getByRole('navigation', { name: 'On this page' }).getByRole('link', { name: 'Daily report' }).click();
    const section = page.getByRole('region', { name: 'Daily reconciliation report' });
    const today = istDay();
    await section.getByRole('heading', { name: `Report for ${enDate(today)}` }).waitFor();
    expect(await section.getByLabel('Day', { exact: true }).inputValue()).toBe(today);
    const report = section.getByTestId('daily-report');
    const table = (name: string) => report.getByRole('table', { name });
    expect(await table('Money received').getByRole('row', { name: /^Online \(gateway\)/ }).textContent()).toBe(`Online (gateway)1${inr(onlinePaise)}`);
    expect(await table('Bank credits').getByRole('row', { name: /^Held in the exception queue/ }).textContent()).toBe(`Held in the exception queue1${inr(shortPaise)}`);
    expect(await table('Exceptions raised').getByRole('row', { name: /^Amount short/ }).textContent()).toBe(`Amount short1${inr(shortPaise)}`);
    expect(await table('Exceptions open at the end of the day').getByRole('row', { name: /^Amount short/ }).textContent()).toBe(`Amount short1${inr(shortPaise)}`);
    await table('Postings to billing (by payment day)').getByRole('row', { name: /^Posted in billing/ }).waitFor();
    const item = report.getByRole('region', { name: 'Open items' }).getByRole('row', { name: /Amount short/ });
    expect(await item.textContent()).toContain(challanRef);
    await axe('daily report');
    await shot('daily-en');

    // The PDF as the browser downloads it, and each document's first bytes.
    const downloading = page.waitForEvent('download');
    await section.getByRole('link', { name: 'Report (PDF, English)' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`reconciliation-${today}.pdf`);
    expect(fs.readFileSync(await download.path()).subarray(0, 4).toString('latin1')).toBe('%PDF');
    const got: string[] = [];
    for (const name of ['Report (PDF, English)', 'Report (PDF, Hindi)', 'Report (XLSX)']) {
      const href = await section.getByRole('link', { name }).getAttribute('href');
      expect(href).toContain(`day=${today}`);
      const r = await fetchLink(href);
      got.push(`${r.status} ${r.body.subarray(0, name.includes('XLSX') ? 2 : 4).toString('latin1')}`);
    }
    expect(got).toEqual(['200 %PDF', '200 %PDF', '200 PK']);

    // Another day: yesterday had nothing; tomorrow cannot be chosen.
    await section.getByLabel('Day', { exact: true }).fill(istDay(1));
    await section.getByRole('button', { name: 'Show' }).click();
    await section.getByText('Choose today or an earlier day.').waitFor();
    await section.getByLabel('Day', { exact: true }).fill(istDay(-1));
    await section.getByRole('button', { name: 'Show' }).click();
    await section.getByRole('heading', { name: `Report for ${enDate(istDay(-1))}` }).waitFor();
    await section.getByText('No open items.').waitFor();
    expect(await section.getByText('None on this day.').count()).toBe(8);
    expect(await section.getByRole('link', { name: 'Report (XLSX)' }).getAttribute('href')).toContain(`day=${istDay(-1)}`);
    await axe('daily report of a quiet day');
    await shot('daily-quiet-en');
  }, SLOW);

  it('settles in the sandbox, imports the settlement report on the page, and matches the payout to the bank statement', async () => {
    await loginWithTotp(HOLDING);
    await page.goto(`${portal.url}/discom/recon`);
    const section = page.getByRole('region', { name: 'Gateway settlements' });
    await section.getByText('No settlement report has been imported yet.').waitFor();
    // The page tells the sandbox gateway: its helpers are there.
    await section.getByRole('heading', { name: /Sandbox gateway \(for testing\)/ }).waitFor();
    await section.getByRole('button', { name: 'Settle now (sandbox)' }).click();
    const notice = section.getByText(/^Settlement setl_\w+ made: ₹[\d,]+\.\d{2} paid out for 1 payment\. Download the report and import it\.$/);
    await notice.waitFor();
    settlementId = /setl_\w+/.exec((await notice.textContent())!)![0];

    // The report, as the gateway's link gives it, uploaded as a tester would.
    const report = await fetchLink(await section.getByRole('link', { name: 'Settlement report of the last 30 days (CSV)' }).getAttribute('href'));
    expect(report.status).toBe(200);
    const csv = report.body.toString('utf8');
    expect(csv.split('\n')[0]).toContain('entity_id');
    expect(csv).toContain(settlementId);
    const file = path.join(tmp, 'settlement-report.csv');
    fs.writeFileSync(file, csv);
    await section.getByLabel('Settlement report (CSV)').setInputFiles(file);
    await section.getByRole('button', { name: 'Import report' }).click();
    const result = section.getByTestId('settlement-result');
    await result.waitFor();
    expect(await terms(result.locator('dl.counts-list'))).toEqual({ 'Payments in the report': '1', 'Matched to portal payments now': '1', 'Not known to the portal': '0' });
    const row = result.getByRole('row', { name: new RegExp(settlementId) });
    await row.getByText('New', { exact: true }).waitFor();
    await row.getByText('Not yet', { exact: true }).waitFor();
    const net = paiseOf((await row.locator('td').nth(1).textContent())!);
    const fee = paiseOf((await row.locator('td').nth(2).textContent())!);
    const tax = paiseOf((await row.locator('td').nth(3).textContent())!);
    expect(net + fee + tax).toBe(onlinePaise);
    const list = section.getByRole('region', { name: 'Settlements recorded' });
    await list.getByRole('row', { name: new RegExp(settlementId) }).getByText('Not yet').waitFor();
    await axe('settlement report imported');
    await shot('settlement-imported-en');

    // The same report again changes nothing; a file that is not one is refused with the reason.
    await section.getByLabel('Settlement report (CSV)').setInputFiles(file);
    await section.getByRole('button', { name: 'Import report' }).click();
    await result.getByText('Already imported before: nothing changed.').waitFor();
    const bad = path.join(tmp, 'not-a-report.csv');
    fs.writeFileSync(bad, 'name,amount\nsomeone,12\n');
    await section.getByLabel('Settlement report (CSV)').setInputFiles(bad);
    await section.getByRole('button', { name: 'Import report' }).click();
    const alert = section.getByRole('alert').filter({ hasText: 'The report was not imported. Nothing was changed.' });
    await alert.getByText(/columns missing: entity_id/).waitFor();
    await axe('settlement report refused');
    await shot('settlement-refused-en');

    // The payout reaches the online collections account: its statement, imported, shows the settlement in the bank.
    const today = istDay();
    const statement = await page.request.get(`${portal.url}/sandbox/bank/statement?${new URLSearchParams({ account: ONLINE_COLLECTIONS.accountNo, from: today, to: today, format: 'mt940' }).toString()}`);
    expect(statement.status()).toBe(200);
    const sta = path.join(tmp, 'online-collections.sta');
    fs.writeFileSync(sta, await statement.body());
    await page.getByLabel('Statement file').setInputFiles(sta);
    await page.getByRole('button', { name: 'Import statement' }).click();
    const imported = page.getByTestId('import-result');
    await imported.waitFor();
    expect(await terms(imported.locator('dl.counts-list'))).toMatchObject({ 'Gateway settlements': '1', 'Sent to the exception queue': '0' });
    await list.getByRole('row', { name: new RegExp(settlementId) }).getByText('Yes', { exact: true }).waitFor();
    await shot('settlement-in-bank-en');

    await setLang('hi');
    await page.goto(`${portal.url}/discom/recon`);
    const hi = page.getByRole('region', { name: 'गेटवे निपटान' });
    await hi.getByRole('region', { name: 'दर्ज निपटान' }).getByRole('row', { name: new RegExp(settlementId) }).getByText('हाँ').waitFor();
    await page.getByRole('region', { name: 'दैनिक मिलान रिपोर्ट' }).getByTestId('daily-report').waitFor();
    await axe('reconciliation with settlements and the daily report (hi)');
    await shot('recon-hi');
  }, SLOW);

  it('the discom opens where the money of a batch is from the exception queue, and the payer sees every step done', async () => {
    await loginWithTotp(HOLDING);
    await page.goto(`${portal.url}/discom/recon`);
    const row = page.getByRole('region', { name: 'Exceptions', exact: true }).getByRole('row', { name: new RegExp(challanRef) });
    await row.getByRole('link', { name: challanRef }).click();
    await page.waitForURL(new RegExp(`/discom/recon/batches/${challanBatchId}$`));
    await page.getByRole('heading', { name: `Payment ${challanRef}: where the money is`, level: 1 }).waitFor();
    // The short credit is held in the queue, not applied: nothing received for the batch yet.
    const trail = page.getByRole('region', { name: 'Where the money is' });
    await trail.getByTestId('leg-received').getByText('No money has been applied to this payment yet.').waitFor();
    await trail.getByTestId('leg-banked').getByText('Waiting', { exact: true }).waitFor();
    await page.getByText('Money held in the exception queue for this payment is not counted here until it is applied.').waitFor();
    await page.getByRole('link', { name: 'Back to reconciliation' }).waitFor();
    await axe('three-way view of a batch waiting for its money');
    await shot('three-way-waiting-en');

    // The online batch: received, paid out by the gateway and seen in the statement, posted.
    const onlineId = onlinePath.split('/').pop()!;
    await page.goto(`${portal.url}/discom/recon/batches/${onlineId}`);
    for (const k of ['received', 'banked', 'posted']) await trail.getByTestId(`leg-${k}`).getByText('Done', { exact: true }).waitFor();
    expect(await trail.getByTestId('leg-banked').textContent()).toContain(`Paid out by the gateway in settlement ${settlementId}`);
    expect(await trail.getByTestId('leg-banked').textContent()).toContain("seen in the discom's bank statement");
    const banked = page.getByRole('region', { name: "In the discom's bank" });
    await banked.getByRole('row', { name: new RegExp(settlementId) }).getByText('Yes').waitFor();
    expect(await page.locator('dl.summary').textContent()).toContain(`Paid${inr(onlinePaise)}`);
    await axe('three-way view of a settled batch');
    await shot('three-way-done-en');

    await setLang('hi');
    await page.goto(`${portal.url}/discom/recon/batches/${onlineId}`);
    await page.getByRole('region', { name: 'राशि कहाँ है' }).getByTestId('leg-banked').getByText('पूरा').waitFor();
    await axe('three-way view (hi)');
    await shot('three-way-hi');

    // The payer sees the same, every step done.
    await context.close();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-IN', timezoneId: 'Asia/Kolkata' });
    page = await context.newPage();
    await login('edu.admin');
    await page.goto(portal.url + onlinePath);
    const payer = page.getByRole('region', { name: 'Where your money is' });
    for (const k of ['received', 'banked', 'posted']) await payer.getByTestId(`leg-${k}`).getByText('Done', { exact: true }).waitFor();
    await shot('payer-trail-done-en');
    // A narrow screen: the steps stack, nothing runs off the page.
    await page.setViewportSize({ width: 390, height: 844 });
    await payer.waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { document: { documentElement: { clientWidth: number } } }).document.documentElement.clientWidth)).toBe(true);
    await shot('payer-trail-narrow');
  }, SLOW);
});
