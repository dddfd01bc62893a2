import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * The portal as its own process (`src/cli.ts serve`), for tests that kill it, restart it, or
 * restart its database: what a test in one process cannot do to itself.
 */
export class AppProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  readonly log: string[] = [];

  constructor(
    readonly port: number,
    readonly env: Record<string, string>,
    /** Extra node flags (e.g. --cpu-prof). */
    readonly nodeArgs: string[] = [],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (to read its memory from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until /readyz answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [...this.nodeArgs, '--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        PUBLIC_URL: this.url,
        LOG_LEVEL: 'info',
        DEMO_SEED: 'false',
        BILLING_SYNC_INTERVAL_S: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const keep = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line) this.log.push(line);
      if (this.log.length > 5000) this.log.splice(0, this.log.length - 5000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.running) throw new Error(`the server exited while starting:\n${this.log.slice(-30).join('\n')}`);
      try {
        const r = await fetch(`${this.url}/readyz`);
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`the server was not ready in ${timeoutMs} ms:\n${this.log.slice(-30).join('\n')}`);
  }

  /** Kills the process (SIGKILL: no shutdown, nothing flushed) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child) return;
    if (this.running) this.child.kill(signal);
    await this.exited;
    this.child = null;
  }

  /** Log lines (pino JSON) at level warn and above, or with an error. */
  problems(): string[] {
    return this.log.filter((l) => /"level":(50|60)/.test(l) || /unhandled/i.test(l));
  }
}

/** A session against an AppProcess over real HTTP: cookie and CSRF token kept. */
export class HttpSession {
  private cookie = '';
  private csrf = '';
  constructor(private readonly base: () => string) {}

  /** The Cookie header and CSRF token of the session, for a load generator to send. */
  cookieHeader(): string {
    return this.cookie;
  }

  csrfToken(): string {
    return this.csrf;
  }

  async login(loginId: string, password: string): Promise<this> {
    const r = await this.send('POST', '/api/v1/auth/login', { loginId, password });
    if (r.status !== 200) throw new Error(`login ${loginId}: ${r.status} ${r.text}`);
    return this;
  }

  async send(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, raw?: { data: Buffer | string; type: string }): Promise<{ status: number; text: string; json: <T>() => T }> {
    const res = await fetch(this.base() + url, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(raw ? { 'content-type': raw.type } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : raw ? { body: raw.data } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sg_session='));
    if (set) this.cookie = set.split(';')[0]!;
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (parsed && typeof parsed === 'object' && typeof (parsed as { csrfToken?: unknown }).csrfToken === 'string') this.csrf = (parsed as { csrfToken: string }).csrfToken;
    return { status: res.status, text, json: <T>() => parsed as T };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL server of the test's own (initdb in a temporary folder, Debian's binaries), so
 * a test can restart it without disturbing anything else on the machine. As root, the server
 * runs as the postgres user (PostgreSQL refuses to run as root).
 */
export class PrivateCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static available(): boolean {
    return fs.existsSync(path.join(binDir(), 'initdb')) && fs.existsSync(path.join(binDir(), 'pg_ctl'));
  }

  static async create(): Promise<PrivateCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-pg-'));
    fs.chmodSync(dir, 0o777);
    const c = new PrivateCluster(dir, await freePort());
    try {
      await c.run('initdb', ['-D', c.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C.UTF-8']);
      await c.start();
    } catch (e) {
      await c.destroy();
      throw e;
    }
    return c;
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /** Runs one of the server's tools (as postgres when we are root), without blocking the event loop. */
  private async run(tool: string, args: string[]): Promise<void> {
    const bin = path.join(binDir(), tool);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) spawnSync('chown', ['-R', 'postgres', this.dir]);
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
    await new Promise<void>((resolve, reject) => {
      execFile(cmd, argv, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${tool} ${args.join(' ')}: ${stderr || stdout || err.message}`)) : resolve()));
    });
  }

  private opts(): string {
    return `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=64MB`;
  }

  async start(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-o', this.opts(), '-l', path.join(this.dir, 'server.log'), '-w', 'start']);
  }

  /** Stops it (fast: open transactions are rolled back, clients disconnected), for `ms`, and starts it again. */
  async restart(downMs = 0): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
    if (downMs) await sleep(downMs);
    await this.start();
  }

  async destroy(): Promise<void> {
    try {
      await this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  // The newest version that has the server's tools (a newer client-only package has no initdb).
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  return path.join(root, versions[0] ?? '15', 'bin');
}
