import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpSend } from '../../src/adapters/gateway/sandbox.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { tagDemoConnections } from '../../src/modules/demo/seed.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import { SANDBOX_KEY_ID } from '../../src/modules/payments/index.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

// SCREENSHOTS=dir keeps a PNG of every page visited, to look at.
const shots = process.env.SCREENSHOTS;
const SLOW = 180_000;

/**
 * Money at the edges as the payer and the accounts clerk see it (issue 16): a payment paid short
 * says "Part paid — ₹X still due" with the rebate credited, and the holding company's accounts
 * team finds the short capture and a payment for an order the portal never made in its queue.
 */
describe('part payments and unmatched money in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let batchId = '';

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(600), launchChromium()]);
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

  const login = async (loginId: string): Promise<string> => {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    const { stage, csrfToken } = (await r.json()) as { stage: string; csrfToken: string };
    if (stage === 'totp') {
      await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
      const code = totpCode(DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!, stepAt(new Date()));
      expect((await page.request.post(`${portal.url}/api/v1/auth/totp`, { data: { code }, headers: { 'x-csrf-token': csrfToken } })).status()).toBe(200);
    }
    return csrfToken;
  };
  const setLang = async (lang: string) => {
    await page.goto(portal.url);
    await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
  };
  const shot = async (name: string) => {
    if (!shots) return;
    await page.evaluate(async () => {
      const fonts = (globalThis as unknown as { document: { fonts: { load(f: string, t: string): Promise<unknown>; ready: Promise<unknown> } } }).document.fonts;
      await Promise.all(['400', '700'].map((w) => fonts.load(`${w} 16px "Noto Sans Devanagari"`, 'कबक')));
      await fonts.ready;
    });
    await page.screenshot({ path: path.join(shots, `edges-${name}.png`), fullPage: true });
  };
  const axe = async (where: string) => {
    await page.waitForLoadState('networkidle');
    expect(await axeViolations(page), where).toEqual([]);
  };

  it('shows a payment paid short as "Part paid — ₹X still due", with the rebate credited, in English and Hindi', async () => {
    const csrf = await login('edu.admin');
    const org = (await portal.database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    await portal.database.db.updateTable('organisations').set({ approval_threshold_paise: null }).where('id', '=', org).execute();
    const rows = await portal.database.db.selectFrom('connection_dues').select('connection_id').where('org_id', '=', org).where('balance_paise', '>', 200_000n).orderBy('connection_id').limit(3).execute();
    const made = await page.request.post(`${portal.url}/api/v1/org/payments/batches`, {
      data: { items: rows.map((r) => ({ connectionId: r.connection_id.toString() })) },
      headers: { 'x-csrf-token': csrf, 'idempotency-key': 'e2e-edges-short-1' },
    });
    expect(made.status()).toBe(201);
    const b = (await made.json()) as { id: string; totalPaise: string };
    batchId = b.id;
    const co = (await (await page.request.post(`${portal.url}/api/v1/org/payments/batches/${b.id}/checkout`, { headers: { 'x-csrf-token': csrf } })).json()) as { orderId: string };
    // The payer pays ₹1,000 less than the order (an order that takes part payments).
    await portal.payments.sandbox!.pay(SANDBOX_KEY_ID, co.orderId, 'success', 'upi', { amountPaise: BigInt(b.totalPaise) - 1_000_00n });
    await portal.payments.sandbox!.pump(httpSend);

    for (const lang of ['en', 'hi']) {
      await setLang(lang);
      await page.goto(`${portal.url}/payments/${b.id}`);
      if (lang === 'en') {
        await page.getByText(/^Part paid — ₹[\d,]+\.\d\d still due\.$/).waitFor();
        expect(await page.locator('.pstatus-part_paid').first().textContent()).toBe('Part paid');
        await page.getByText('Rebate credited').waitFor();
        await page.getByText('Still due after this payment').waitFor();
      } else {
        await page.getByText(/^आंशिक भुगतान — ₹[\d,]+\.\d\d अभी बकाया।$/).waitFor();
        await page.getByText('जमा की गई छूट').waitFor();
      }
      await axe(`part paid (${lang})`);
      await shot(`part-paid-${lang}`);
    }
    await page.goto(`${portal.url}/payments`);
    await page.getByRole('link', { name: /^PB/ }).first().waitFor();
    expect(await page.locator('.pstatus-part_paid').count()).toBeGreaterThan(0);
  }, SLOW);

  it('lets the holding company’s accounts team acknowledge the short capture and assign a payment nobody ordered', async () => {
    expect(batchId).not.toBe('');
    // A payment link made at the gateway, paid, for exactly what another batch needs.
    const maker = await login('edu.admin');
    const org = (await portal.database.db.selectFrom('organisations').select('id').where('department_code', '=', 'BR-EDU').executeTakeFirstOrThrow()).id;
    const free = await portal.database.db
      .selectFrom('connection_dues as d')
      .select('d.connection_id')
      .where('d.org_id', '=', org)
      .where('d.balance_paise', '>', 200_000n)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('payment_batch_items as i').select('i.batch_id').whereRef('i.connection_id', '=', 'd.connection_id').where('i.open', '=', true))))
      .orderBy('d.connection_id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const made = await page.request.post(`${portal.url}/api/v1/org/payments/batches`, { data: { items: [{ connectionId: free.connection_id.toString() }] }, headers: { 'x-csrf-token': maker, 'idempotency-key': 'e2e-edges-link-1' } });
    const target = (await made.json()) as { id: string; reference: string; totalPaise: string };
    const link = await portal.payments.sandbox!.createOrder(SANDBOX_KEY_ID, { amount: Number(target.totalPaise), currency: 'INR', receipt: 'link-e2e', notes: {} });
    await portal.payments.sandbox!.pay(SANDBOX_KEY_ID, link.id as string, 'success', 'netbanking');
    await portal.payments.sandbox!.pump(httpSend);
    await context.clearCookies();

    await login('admin.discom');
    await setLang('en');
    await page.goto(`${portal.url}/discom/recon`);
    const short = page.getByRole('row').filter({ hasText: 'Paid less than the order' });
    await short.first().waitFor();
    const unknown = page.getByRole('row').filter({ hasText: 'Payment for an order the portal did not make' });
    await unknown.first().waitFor();
    await axe('queue with the new reasons');
    await shot('queue-en');

    await short.first().getByRole('button', { name: /^Resolve exception \d+/ }).click();
    const form = page.locator('form.resolve-form');
    await form.getByText('Nothing moves: the money was already applied').waitFor();
    await form.getByRole('button', { name: 'Resolve' }).click();
    await form.getByText('Write a note: this action needs one.').waitFor();
    await form.getByLabel('Note for the audit log').fill('Payer told by letter: ₹1,000 remains');
    await form.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText(/^Exception \d+ acknowledged\.$/).waitFor();

    await unknown.first().getByRole('button', { name: /^Resolve exception \d+/ }).click();
    await form.getByLabel('Assign to a payment').check();
    await form.getByLabel(/^Payment reference or number/).fill(target.reference);
    await form.getByLabel('Note for the audit log').fill('Paid by a payment link for this batch');
    await axe('assign form');
    await shot('assign-form-en');
    await form.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText(/^Exception \d+ resolved: the money was applied to the payment and receipts were issued\.$/).waitFor();

    await setLang('hi');
    await page.goto(`${portal.url}/discom/recon`);
    await page.getByRole('button', { name: 'निपटाए गए', pressed: false }).click();
    await page.getByText('ऐसे ऑर्डर का भुगतान जो पोर्टल ने नहीं बनाया').first().waitFor();
    await axe('resolved queue (hi)');
    await shot('queue-resolved-hi');
    const batch = await portal.database.db.selectFrom('payment_batches').select(['status', 'still_due_paise']).where('reference', '=', target.reference).executeTakeFirstOrThrow();
    expect(batch).toEqual({ status: 'paid', still_due_paise: 0n });
  }, SLOW);
});
