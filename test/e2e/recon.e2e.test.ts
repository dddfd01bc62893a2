import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpSend } from '../../src/adapters/gateway/sandbox.ts';
import { buildJobRunner } from '../../src/jobs.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import { Client } from '../helpers/http.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

// SCREENSHOTS=dir keeps a PNG of every page visited, to look at.
const shots = process.env.SCREENSHOTS;
const SLOW = 180_000;

const paiseOf = (s: string) => BigInt(s.replace(/[₹,\s]/g, '').replace('.', ''));
const rupees = (p: bigint) => `${p / 100n}.${(p % 100n).toString().padStart(2, '0')}`;
const inr = (p: bigint) => `₹${new Intl.NumberFormat('en-IN').format(p / 100n)}.${(p % 100n).toString().padStart(2, '0')}`;
const DEMO_ACCOUNT: Record<string, string> = { NBPD: '50200011112221', SBPD: '50200011113331' };
/** The accounts team of the discom whose collection account a virtual account (by its prefix) belongs to, and the other discom's. */
const ACCOUNTS: Record<string, { own: string; other: string }> = { NBPD: { own: 'accounts.nbpdcl', other: 'accounts.sbpdcl' }, SBPD: { own: 'accounts.sbpdcl', other: 'accounts.nbpdcl' } };

describe('RTGS/NEFT challans and reconciliation in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pump: NodeJS.Timeout | undefined;
  let pumping: Promise<unknown> = Promise.resolve();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-e2e-'));
  // Shared by the steps below, in order.
  let batchPath = '';
  let va = '';
  let totalPaise = 0n;
  let shortPaise = 0n;
  let utr = '';

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
    await page.screenshot({ path: path.join(shots, `recon-${name}.png`), fullPage: true });
  };
  const setLang = async (lang: string) => {
    await page.goto(portal.url);
    await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
  };
  const axe = async (where: string) => {
    await page.waitForLoadState('networkidle');
    expect(await axeViolations(page), where).toEqual([]);
  };

  it('the maker pays a batch by RTGS/NEFT: issues the challan, downloads it, and sends a short transfer from the sandbox bank', async () => {
    await login('edu.admin');
    // Two bills of one discom from the dues table, filtered by discom (a challan pays one discom's account).
    await page.goto(`${portal.url}/org/dues/list?status=due&discom=NBPDCL`);
    const rows = page.locator('table.data tbody tr');
    await rows.first().waitFor();
    for (const i of [0, 1]) await rows.nth(i).locator('input[type=checkbox]').check();
    await page.getByRole('button', { name: 'Pay selected' }).click();
    await page.waitForURL(/\/payments\/new$/);
    await page.getByRole('button', { name: 'Create payment' }).click();
    await page.waitForURL(/\/payments\/\d+$/);
    batchPath = new URL(page.url()).pathname;
    await page.locator('.status-line').getByText('Ready to pay').waitFor();
    // Both ways to pay are offered.
    await page.getByRole('button', { name: 'Pay now' }).waitFor();
    await page.getByRole('button', { name: 'Pay by RTGS/NEFT (challan)' }).waitFor();
    await axe('ready batch with both ways to pay');
    await shot('ready-en');

    await page.getByRole('button', { name: 'Pay by RTGS/NEFT (challan)' }).click();
    await page.getByText('Challan issued. Transfer the exact amount to the account below.').waitFor();
    const panel = page.getByRole('region', { name: 'RTGS/NEFT challan' });
    await panel.waitFor();
    await page.locator('.status-line').getByText('Payment in progress').waitFor();
    await page.getByText("Waiting for your RTGS/NEFT transfer to the challan's virtual account.").waitFor();
    va = (await panel.getByTestId('challan-va').textContent())!;
    expect(va).toMatch(/^(NBPD|SBPD)\d{10,}$/);
    // Shown in groups of four, copied without gaps.
    expect(await panel.getByTestId('challan-va').locator('span').allTextContents()).toEqual(va.match(/.{1,4}/g));
    const amountText = (await panel.getByTestId('challan-amount').textContent())!;
    expect(amountText).toMatch(/^₹(\d{1,2},)*\d{1,3}\.\d{2}$/);
    totalPaise = paiseOf(amountText);
    expect(amountText).toBe(inr(totalPaise));
    expect(await page.locator('dl.summary').textContent()).toContain(`Total${amountText}`);
    await panel.getByText('SBXB0000101').waitFor();
    await panel.getByText('Sangrahan Sandbox Bank').waitFor();
    await panel.getByText('Waiting for payment').waitFor();
    await panel.getByText(/^\d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} [ap]m IST$/).waitFor();
    await panel.getByText('No money has arrived for this challan yet.', { exact: false }).waitFor();
    // Paid by challan: no online checkout any more, and no gateway sections.
    expect(await page.getByRole('button', { name: 'Pay now' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Gateway order' }).count()).toBe(0);

    // The challan in both languages, and the bank's bulk-payment file.
    const got: string[] = [];
    for (const name of ['Challan (PDF, English)', 'Challan (PDF, Hindi)', 'Bank bulk-payment file (CSV)']) {
      const href = (await panel.getByRole('link', { name }).getAttribute('href'))!;
      const res = await page.request.get(new URL(href, portal.url).toString());
      const body = await res.body();
      got.push(`${res.status()} ${name.includes('CSV') ? String(body.toString('utf8').includes(va)) : body.subarray(0, 4).toString('latin1')}`);
    }
    expect(got).toEqual(['200 %PDF', '200 %PDF', '200 true']);
    await axe('challan issued');
    await shot('challan-en');

    // The sandbox bank, filled in from the challan.
    await panel.getByRole('link', { name: 'Pay it in the sandbox bank' }).click();
    await page.waitForURL(/\/sandbox\/bank\?/);
    await page.getByRole('heading', { name: 'Sandbox bank', level: 1 }).waitFor();
    await page.getByText('A pretend bank for testing and demonstrations. No real money moves.').waitFor();
    expect(await page.getByLabel('Virtual account number').inputValue()).toBe(va);
    expect(await page.getByLabel('Amount (₹)').inputValue()).toBe(rupees(totalPaise));
    await axe('sandbox bank');
    await shot('sandbox-bank-en');

    // ₹100 short. e-collect asks the portal first, which refuses a wrong amount: the bank returns it.
    shortPaise = totalPaise - 10_000n;
    expect(shortPaise).toBeGreaterThan(0n);
    await page.getByLabel('Amount (₹)').fill(rupees(shortPaise));
    await page.getByLabel('Payer\'s name (optional)').fill('DDO Patna Sadar');
    await page.getByRole('radio', { name: /e-collect:/ }).check();
    await page.getByRole('button', { name: 'Send transfer' }).click();
    const result = page.getByTestId('transfer-result');
    await result.getByText('Returned to the payer.').waitFor();
    expect(await result.textContent()).toContain(`The portal takes only the challan's exact amount, ${inr(totalPaise)}.`);
    await shot('sandbox-bank-returned');
    // Told by Smart Collect notification, the short credit reaches the portal and waits for the discom.
    await page.getByRole('radio', { name: /Smart Collect notification/ }).check();
    await page.getByRole('button', { name: 'Send transfer' }).click();
    await result.getByText("Booked: the money is in the discom's account.").waitFor();
    utr = (await result.getByTestId('transfer-utr').textContent())!;
    expect(utr).toMatch(/^SBXBN\d{17}$/);
    await shot('sandbox-bank-booked');

    await result.getByRole('link', { name: /^Back to payment PB\d{8}$/ }).click();
    await page.waitForURL(new RegExp(`${batchPath}$`));
    // The page polls: the credit appears by itself, held, with what happens next.
    const credits = page.getByRole('region', { name: 'Money received' });
    const row = credits.getByRole('row', { name: new RegExp(utr) });
    await row.waitFor({ timeout: 20_000 });
    await row.getByText("Amount short — the discom's accounts team will contact you.").waitFor();
    expect(await row.textContent()).toContain(inr(shortPaise));
    await row.getByText('Held', { exact: true }).waitFor();
    await page.locator('.status-line').getByText('Payment in progress').waitFor();
    await axe('challan with a held credit');
    await shot('challan-held-en');
  }, SLOW);

  it('the discom accounts team sees the short credit and accepts it as a part payment; the other discom’s does not see it', async () => {
    // The other discom's accounts team: its queue does not hold this credit.
    await loginWithTotp(ACCOUNTS[va.slice(0, 4)]!.other);
    await page.goto(`${portal.url}/discom/recon`);
    await page.getByRole('heading', { name: 'Reconciliation', level: 1 }).waitFor();
    await page.getByTestId('recon-scope').getByText(/^You see (NBPDCL|SBPDCL)’s money only/).waitFor();
    await page.getByText('No open exceptions: every credit so far has been applied.').waitFor();
    expect(await page.getByRole('region', { name: 'Exceptions' }).getByText(utr).count()).toBe(0);
    await page.getByText('One online checkout pays both discoms’ bills', { exact: false }).waitFor();
    await context.clearCookies();

    await loginWithTotp(ACCOUNTS[va.slice(0, 4)]!.own);
    await page.goto(`${portal.url}/discom/postings`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reconciliation' }).click();
    await page.waitForURL(/\/discom\/recon$/);
    await page.getByRole('heading', { name: 'Reconciliation', level: 1 }).waitFor();
    const counts = page.getByRole('list', { name: 'Open exceptions by reason' });
    await counts.getByText('Amount short').waitFor();
    expect((await counts.textContent())!.replace(/\s+/g, ' ')).toBe('Amount short1');
    const table = page.getByRole('region', { name: 'Exceptions' });
    const row = table.getByRole('row', { name: new RegExp(utr) });
    await row.waitFor();
    const text = (await row.textContent())!;
    expect(text).toContain(inr(shortPaise));
    expect(text).toContain(va);
    expect(text).toContain('DDO Patna Sadar');
    expect(text).toContain(`${inr(shortPaise)} received of ${inr(totalPaise)}: ₹100.00 short.`);
    expect(text).toContain('Education');
    expect(text).toContain(`PB${batchPath.split('/').pop()!.padStart(8, '0')}`);
    expect(text).toMatch(/(seconds?|minutes?) ago|now/);
    await axe('exception queue');
    await shot('queue-en');

    // Only the actions that fit a short credit are offered; a refund needs a note.
    await row.getByRole('button', { name: /^Resolve exception \d+ \(Amount short, ₹/ }).click();
    const form = page.getByRole('form', { name: /^Resolve: Amount short, ₹/ });
    await form.waitFor();
    const offered = await form.getByRole('radio').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    expect(offered).toEqual(['part_payment', 'assign', 'refund']);
    await form.getByLabel('Refund to the payer').check();
    await form.getByRole('button', { name: 'Resolve' }).click();
    await form.getByText('Write a note: this action needs one.').waitFor();
    await form.getByLabel('Assign to a payment').check();
    await form.getByLabel('Payment reference or number').fill('PB-what');
    await form.getByRole('button', { name: 'Resolve' }).click();
    await form.getByText('Enter a payment reference such as PB00000042, or its number.').waitFor();
    await axe('resolve form');
    await shot('resolve-form-en');
    await form.getByLabel('Accept as a part payment').check();
    await form.getByLabel('Note for the audit log (optional)').fill('Payer confirmed the balance follows');
    await form.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText(/^Exception \d+ resolved: the money was applied to the payment and receipts were issued\.$/).waitFor();
    await page.getByText('No open exceptions: every credit so far has been applied.').waitFor();
    await page.getByRole('button', { name: 'Resolved', pressed: false }).click();
    const done = table.getByRole('row', { name: new RegExp(utr) });
    await done.getByText('Accepted as a part payment').waitFor();
    await done.getByText('Payer confirmed the balance follows').waitFor();
    await shot('queue-resolved-en');
  }, SLOW);

  it('the maker sees the batch part paid, with the UTR of the transfer, in English and Hindi', async () => {
    await login('edu.admin');
    await page.goto(portal.url + batchPath);
    // The short credit accepted as a part payment: part paid, with what is still due (issue 16).
    await page.locator('.status-line').getByText('Part paid', { exact: true }).waitFor();
    await page.getByText(/^Part paid — ₹[\d,]+\.\d\d still due\.$/).waitFor();
    await page.getByText('The bank transfer was matched to this payment.', { exact: false }).waitFor();
    const panel = page.getByRole('region', { name: 'RTGS/NEFT challan' });
    await panel.locator('.cstatus').getByText('Paid').waitFor();
    const row = panel.getByRole('region', { name: 'Money received' }).getByRole('row', { name: new RegExp(utr) });
    await row.getByText('Applied to this payment').waitFor();
    await row.getByText('Accepted as a part payment').waitFor();
    expect(await page.locator('dl.summary').textContent()).toContain(`Paid${inr(shortPaise)}`);
    // Receipts for the money that came; no bulk file for a paid challan.
    await page.getByRole('link', { name: 'Consolidated receipt (PDF)' }).waitFor();
    expect(await panel.getByRole('link', { name: 'Bank bulk-payment file (CSV)' }).count()).toBe(0);
    await axe('paid by challan');
    await shot('challan-paid-en');

    await setLang('hi');
    await page.goto(portal.url + batchPath);
    await page.locator('.status-line').getByText('आंशिक भुगतान').waitFor();
    const hi = page.getByRole('region', { name: 'RTGS/NEFT चालान' });
    await hi.getByText('आंशिक भुगतान के रूप में स्वीकार').waitFor();
    await hi.getByRole('link', { name: 'चालान (PDF, हिंदी)' }).waitFor();
    await axe('paid by challan (hi)');
    await shot('challan-paid-hi');
  }, SLOW);

  it('imports the bank statement on the discom page, shows its lines, and explains a file that is not a statement', async () => {
    // The statement, as the bank would send it, from the sandbox bank's page.
    await page.goto(`${portal.url}/sandbox/bank`);
    const account = DEMO_ACCOUNT[va.slice(0, 4)]!;
    await page.getByLabel('Account', { exact: true }).selectOption(account);
    await page.getByLabel('Format').selectOption('mt940');
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download statement' }).click();
    const download = await downloading;
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    expect(fs.readFileSync(file, 'latin1')).toContain(utr);

    await loginWithTotp(ACCOUNTS[va.slice(0, 4)]!.own);
    await page.goto(`${portal.url}/discom/recon`);
    await page.getByRole('heading', { name: 'Bank statements' }).waitFor();
    await page.getByText('No statement has been imported yet.').waitFor();
    // A CSV needs its account; the page says so before sending anything.
    await page.getByLabel('Format').selectOption('csv');
    await page.getByLabel('Statement file').setInputFiles(file);
    await page.getByRole('button', { name: 'Import statement' }).click();
    await page.getByText('Enter the account number: a CSV statement does not name it.').waitFor();
    await page.getByLabel('Format').selectOption('');
    await page.getByRole('button', { name: 'Import statement' }).click();
    const result = page.getByTestId('import-result');
    await result.waitFor();
    await result.getByRole('heading', { name: new RegExp(`^Statement SBX\\S+ of account ${account}$`) }).waitFor();
    // The one credit was already known from the notification: the statement confirms it.
    const figures = Object.fromEntries(
      await result.locator('dl.counts-list dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, (dt as unknown as { nextElementSibling: { textContent: string } }).nextElementSibling.textContent])),
    );
    expect(figures).toMatchObject({ Lines: '1', 'Credits already known, confirmed': '1', 'New credits': '0', 'Sent to the exception queue': '0' });
    await result.getByText('Credits applied now: 0. Held for the exception queue: 0. Still to be applied in the background: 0.').waitFor();
    const list = page.getByRole('region', { name: 'Imported statements' });
    await list.getByText('Matched: 1').waitFor();
    await list.getByRole('button', { name: /^Show the lines of statement SBX/ }).click();
    const lines = page.getByRole('region', { name: /^Lines of statement SBX/ });
    const line = lines.getByRole('row', { name: new RegExp(utr) });
    await line.getByText('Matched').waitFor();
    await line.getByText('UTR already known').waitFor();
    expect(await line.textContent()).toContain(inr(shortPaise));
    await axe('statement imported');
    await shot('statement-imported-en');

    // The same file again changes nothing; sent as a large file would be (imported in the
    // background, followed on the page until it is done), the outcome is the same.
    portal.config.statementInlineBytes = 0;
    const runner = buildJobRunner(portal.database, { pollMs: 1500 });
    try {
      runner.start();
      await page.getByLabel('Statement file').setInputFiles(file);
      await page.getByRole('button', { name: 'Import statement' }).click();
      await page.getByRole('status').filter({ hasText: /in the background/ }).first().waitFor();
      await result.getByText('Already imported before: nothing changed.').waitFor();
    } finally {
      await runner.stop();
      portal.config.statementInlineBytes = 1024 * 1024;
    }

    // A file that is not a statement: refused, with the reason.
    const bad = path.join(tmp, 'not-a-statement.sta');
    fs.writeFileSync(bad, 'Dear sir, please find the statement attached.\n');
    await page.getByLabel('Statement file').setInputFiles(bad);
    await page.getByRole('button', { name: 'Import statement' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The file was not imported. Nothing was changed.' });
    await alert.waitFor();
    await alert.getByText('The file is not a valid bank statement.').waitFor();
    expect((await alert.locator('p').allTextContents()).length).toBeGreaterThanOrEqual(3);
    await axe('statement refused');
    await shot('statement-refused-en');

    await setLang('hi');
    await page.goto(`${portal.url}/discom/recon`);
    await page.getByRole('heading', { name: 'मिलान', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'आयात किए गए विवरण' }).waitFor();
    await page.getByRole('button', { name: 'निपटाए गए' }).click();
    // In the queue's table (the daily report lists the day's resolutions in the same words).
    await page.getByRole('region', { name: 'अपवाद', exact: true }).getByText('आंशिक भुगतान के रूप में स्वीकार').waitFor();
    await axe('reconciliation (hi)');
    await shot('queue-hi');
    await page.goto(`${portal.url}/sandbox/bank`);
    await page.getByRole('heading', { name: 'सैंडबॉक्स बैंक', level: 1 }).waitFor();
    await axe('sandbox bank (hi)');
    await shot('sandbox-bank-hi');
  }, SLOW);

  it('explains why a batch with bills of two discoms cannot have a challan', async () => {
    const api = await new Client(portal.app, '10.9.0.1').login('edu.admin', DEMO_PASSWORD);
    const { rows } = await sql<{ connection_id: bigint }>`
      SELECT DISTINCT ON (dc.code) d.connection_id
        FROM connection_dues d JOIN organisations o ON o.id = d.org_id AND o.department_code = 'BR-EDU'
        JOIN connections c ON c.id = d.connection_id JOIN discoms dc ON dc.id = c.discom_id
       WHERE d.balance_paise > 100000 AND NOT EXISTS (SELECT 1 FROM payment_batch_items i WHERE i.connection_id = d.connection_id AND i.open)
       ORDER BY dc.code, d.connection_id`.execute(portal.database.db);
    expect(rows).toHaveLength(2);
    const made = await api.req('POST', '/api/v1/org/payments/batches', { items: rows.map((r) => ({ connectionId: r.connection_id.toString() })) }, { 'idempotency-key': 'e2e-recon-mixed-1' });
    expect(made.statusCode, made.body).toBe(201);
    await login('edu.admin');
    await page.goto(`${portal.url}/payments/${made.json<{ id: string }>().id}`);
    // Said up front: no challan is offered, and the page says why.
    await page.getByText('This payment covers connections of NBPDCL and SBPDCL. It can be paid online only: a challan (RTGS/NEFT) is for one discom’s connections.').waitFor();
    expect(await page.getByRole('button', { name: 'Pay by RTGS/NEFT (challan)' }).count()).toBe(0);
    // Still ready to pay online.
    await page.locator('.status-line').getByText('Ready to pay').waitFor();
    await page.getByRole('button', { name: 'Pay now' }).waitFor();
    await shot('mixed-discoms-en');
  }, SLOW);
});
