import type { App } from '../../src/platform/context.ts';
import { stepAt, totpCode } from '../../src/modules/identity/index.ts';

/**
 * A browser-like client over app.inject: keeps the session cookie, sends the CSRF token on
 * writes, and can log in with a password and, where needed, the TOTP code.
 */
export class Client {
  cookie: string | null = null;
  csrf: string | null = null;
  constructor(
    readonly app: App,
    readonly ip = '10.0.0.1',
  ) {}

  async req(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await this.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        ...(this.cookie ? { cookie: `sg_session=${this.cookie}` } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const set = res.cookies.find((c) => c.name === 'sg_session');
    if (set) this.cookie = set.value || null;
    if (res.headers['content-type']?.toString().includes('json')) {
      const j = res.json<{ csrfToken?: string } | null>();
      if (j && typeof j === 'object' && typeof j.csrfToken === 'string') this.csrf = j.csrfToken;
    }
    return res;
  }

  /** A request whose body is raw bytes (a file upload). */
  async raw(method: 'POST' | 'PUT', url: string, data: Buffer, contentType = 'application/octet-stream') {
    return this.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: { ...(this.cookie ? { cookie: `sg_session=${this.cookie}` } : {}), ...(this.csrf ? { 'x-csrf-token': this.csrf } : {}), 'content-type': contentType },
      payload: data,
    });
  }

  get(url: string) {
    return this.req('GET', url);
  }
  post(url: string, body?: unknown) {
    return this.req('POST', url, body ?? {});
  }

  /** Logs in; with a TOTP secret, finishes the second factor (waiting for a fresh step if the last was used). */
  async login(loginId: string, password: string, totpSecret?: string) {
    const r = await this.post('/api/v1/auth/login', { loginId, password });
    if (r.statusCode !== 200) throw new Error(`login ${loginId}: ${r.statusCode} ${r.body}`);
    const { stage } = r.json<{ stage: string }>();
    if (stage === 'totp') {
      if (!totpSecret) throw new Error(`${loginId} needs a TOTP code`);
      for (let i = 0; i < 3; i++) {
        const t = await this.post('/api/v1/auth/totp', { code: totpCode(totpSecret, stepAt(new Date()) + i) });
        if (t.statusCode === 200) return this;
      }
      throw new Error(`${loginId}: TOTP refused`);
    }
    return this;
  }
}
