import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../../src/modules/demo/people.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';
import { axeViolations, launchChromium, startPortal } from './browser.ts';

const secretOf = (loginId: string) => DEMO_LOGINS.find((l) => l.loginId === loginId)!.totpSecret!;

describe('registration, login and administration in Chromium', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [portal, browser] = await Promise.all([startPortal(200), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await portal.database.db.deleteFrom('throttles').execute();
  });

  async function login(loginId: string, password = DEMO_PASSWORD) {
    await page.goto(`${portal.url}/login`);
    await page.getByLabel('Login ID').fill(loginId);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const secret = DEMO_LOGINS.find((l) => l.loginId === loginId)?.totpSecret;
    if (secret) {
      await page.getByLabel('Code').waitFor();
      await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
      await page.getByLabel('Code').fill(totpCode(secret, stepAt(new Date())));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  /** Logs in through the API; the browser context shares the session cookie. */
  async function apiLogin(loginId: string) {
    const r = await page.request.post(`${portal.url}/api/v1/auth/login`, { data: { loginId, password: DEMO_PASSWORD } });
    const { stage, csrfToken } = (await r.json()) as { stage: string; csrfToken: string };
    if (stage === 'totp') {
      await portal.database.db.updateTable('users').set({ totp_last_step: null }).where('login_id', '=', loginId).execute();
      const t = await page.request.post(`${portal.url}/api/v1/auth/totp`, {
        data: { code: totpCode(secretOf(loginId), stepAt(new Date())) },
        headers: { 'x-csrf-token': csrfToken },
      });
      expect(t.status()).toBe(200);
    }
  }

  it('registers an organisation, shows every bad field, and a discom officer approves it; then its admin logs in', async () => {
    await page.goto(`${portal.url}/register`);
    await page.getByLabel('Type of organisation').selectOption('private');
    await page.getByLabel('PAN', { exact: true }).fill('BAD');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('alert').waitFor();
    await expect(page.locator('.field-error').count()).resolves.toBeGreaterThanOrEqual(6);
    expect(await page.getByLabel('PAN', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('PAN', { exact: true }).fill('AAGCK5555L');
    await page.getByLabel('Name', { exact: true }).fill('Kosi Agro Industries Private Limited');
    await page.getByLabel('Address').fill('Industrial Estate, Purnea 854301');
    await page.getByLabel('Official e-mail').fill('accounts@kosiagro.example.in');
    await page.getByLabel('Official mobile number').fill('9431088888');
    await page.getByLabel('Login ID').fill('kosi.admin');
    await page.getByLabel('Full name').fill('Nazia Ansari');
    await page.getByLabel('Password').fill('Kosi river runs long 42');
    // Its home discom, whose officers decide the registration.
    await page.getByLabel('Home discom').selectOption('NBPDCL');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Registration received' }).waitFor();

    await login('co.nbpdcl');
    await page.getByRole('heading', { name: 'Organisation registrations' }).waitFor();
    const card = page.locator('li.card', { hasText: 'Kosi Agro Industries' });
    await card.getByRole('button', { name: /Approve/ }).click();
    await page.getByText('Kosi Agro Industries Private Limited approved.').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();

    await login('kosi.admin', 'Kosi river runs long 42');
    await page.getByRole('heading', { name: 'Kosi Agro Industries Private Limited' }).waitFor();
  });

  it('invites a user who sets a password with the emailed code, and logs in', async () => {
    await login('edu.admin');
    await page.goto(`${portal.url}/org/users`);
    await page.getByRole('heading', { name: 'Invite a user' }).waitFor();
    const form = page.locator('form.grid-form');
    await form.getByLabel('Login ID').fill('nalanda.viewer');
    await form.getByLabel('Name', { exact: true }).fill('Chandan Kumar');
    await form.getByLabel('E-mail').fill('chandan@edu.bihar.example.in');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText('Invitation sent.').waitFor();
    await page.getByRole('cell', { name: /^nalanda\.viewer/ }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();

    await page.goto(`${portal.url}/dev/outbox`);
    const body = await page.locator('.messages li', { hasText: 'chandan@edu.bihar.example.in' }).first().textContent();
    const code = /\b(\d{6})\b/.exec(body ?? '')![1]!;
    await page.goto(`${portal.url}/forgot-password`);
    await page.getByRole('button', { name: 'I already have a code' }).click();
    await page.getByLabel('Login ID').fill('nalanda.viewer');
    await page.getByLabel('Code').fill(code);
    await page.getByLabel('New password', { exact: true }).fill('Nalanda reading room 9');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Your password is set.').waitFor();
    await login('nalanda.viewer', 'Nalanda reading room 9');
  });

  it('shows the lockout message in Hindi after too many failures', async () => {
    await page.goto(`${portal.url}/login`);
    await page.getByRole('button', { name: /View in Hindi/ }).click();
    // five failures are allowed (LOGIN_MAX_FAILURES); the sixth attempt is refused
    for (let i = 0; i < 6; i++) {
      await page.getByLabel('लॉगिन आईडी').fill('edu.viewer');
      await page.getByLabel('पासवर्ड').fill(`wrong guess ${i}`);
      await page.getByRole('button', { name: 'लॉग इन करें' }).click();
      await page.getByRole('alert').waitFor();
    }
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/के बाद फिर प्रयास करें/);
  });

  it('passes axe on every identity page, in both languages', async () => {
    const pages: [string, string | null][] = [
      ['/login', null],
      ['/register', null],
      ['/forgot-password', null],
      ['/dev/outbox', null],
      ['/org', 'edu.admin'],
      ['/org/users', 'edu.admin'],
      ['/org/offices', 'edu.admin'],
      ['/org/api-keys', 'edu.admin'],
      ['/account', 'edu.admin'],
      ['/discom/organisations', 'admin.discom'],
      ['/discom/users', 'admin.discom'],
      ['/discom/audit', 'admin.discom'],
    ];
    const failures: string[] = [];
    for (const lang of ['en', 'hi']) {
      let current: string | null = null;
      for (const [path, who] of pages) {
        if (who !== current) {
          await context.clearCookies();
          if (who) await apiLogin(who);
          current = who;
        }
        if (page.url() === 'about:blank') await page.goto(portal.url);
        await page.evaluate((l) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('sangrahan.lang', l), lang);
        await page.goto(portal.url + path);
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        for (const v of await axeViolations(page)) failures.push(`${lang} ${path}: ${v}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('lets the holding company’s admin choose the discom of a new staff member, and a discom’s admin see only its own staff', async () => {
    await login('admin.discom');
    await page.goto(`${portal.url}/discom/users`);
    await page.getByRole('heading', { name: 'Invite a user' }).waitFor();
    const form = page.locator('form.grid-form');
    await form.getByLabel('Login ID').fill('co.bhagalpur');
    await form.getByLabel('Name', { exact: true }).fill('Ritu Raj');
    await form.getByLabel('Mobile number').fill('9431099001');
    await form.getByLabel('Role').selectOption('collection_officer');
    await form.getByLabel('Discom', { exact: true }).selectOption('SBPDCL');
    await form.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText('Invitation sent.').waitFor();
    const row = page.getByRole('row', { name: /co\.bhagalpur/ });
    expect(await row.textContent()).toContain('SBPDCL');
    expect(await page.getByRole('row', { name: /admin\.discom/ }).textContent()).toContain('BSPHCL (both)');
    await page.getByRole('button', { name: 'Log out' }).click();

    await login('admin.sbpdcl');
    await page.goto(`${portal.url}/discom/users`);
    await page.getByRole('row', { name: /co\.bhagalpur/ }).waitFor();
    expect(await page.getByRole('row', { name: /co\.nbpdcl/ }).count()).toBe(0);
    // No choice of discom: the people a discom's admin invites join its discom.
    await page.getByText('The people you invite join SBPDCL.').waitFor();
    expect(await page.locator('form.grid-form').getByLabel('Discom', { exact: true }).count()).toBe(0);
  });

  it('keeps discom staff to a second factor and shows organisation admins only their pages', async () => {
    await login('edu.viewer');
    await page.goto(`${portal.url}/org/users`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
  });

  it('makes discom staff enter the authenticator code: a wrong code is refused', async () => {
    await page.goto(`${portal.url}/login`);
    await page.getByLabel('Login ID').fill('accounts.sbpdcl');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Code').fill(totpCode(secretOf('accounts.sbpdcl'), stepAt(new Date()) - 5));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('The code is wrong or has expired.');
  });
});
