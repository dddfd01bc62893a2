import { describe, expect, it } from 'vitest';
import { ConfigError, devToolsDecision, loadConfig } from './config.ts';
import { DEFAULT_PARSE_LIMITS } from './parse-limits.ts';
import { DEFAULT_POOL_SETTINGS, parseSettingsFromConfig } from './parse-pool.ts';

describe('configuration', () => {
  it('uses documented defaults when the environment is empty', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toMatch(/data$/);
    expect(c.demoSeed).toBe(true);
  });

  it('reports every bad variable at once, naming each and what it expects', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DEMO_SEED: 'maybe', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toContain('PORT="eighty" is not valid: expected a whole number from 0 to 65535');
    expect(problems.join('\n')).toContain('DATABASE_URL="mysql://x"');
    expect(problems.join('\n')).toContain('DEMO_SEED="maybe" is not valid: expected true or false');
    expect(problems.join('\n')).toContain('LOG_LEVEL="loud"');
  });

  it('never prints a database password when the URL is wrong', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://app:s3cr#t@db.internal:3306/x' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('DATABASE_URL="mysql://…@db.internal:3306/x"');
    expect((err as Error).message).not.toContain('s3cr');
  });

  it('turns the developer pages on only for a demo database with nothing pointing outside this machine', () => {
    const demo = (env: Record<string, string>) => devToolsDecision(loadConfig(env), true);
    expect(demo({})).toEqual({ on: true, why: 'a demo database on a loopback address' });
    expect(demo({ HOST: '::1' }).on).toBe(true);
    expect(devToolsDecision(loadConfig({}), false)).toEqual({ on: false, why: 'the database holds no demo data' });
    // The engine says nothing: a demo on PostgreSQL has them, a real install on PGlite has not.
    expect(demo({ DATABASE_URL: 'postgres://u@h/db' }).on).toBe(true);
    expect(demo({ HOST: '0.0.0.0' })).toEqual({ on: false, why: 'HOST=0.0.0.0 is not a loopback address' });
    expect(demo({ SMTP_URL: 'smtp://mail.example.in' }).why).toBe('SMTP_URL is set');
    expect(demo({ SMS_WEBHOOK_URL: 'https://sms.example.in/send' }).why).toBe('SMS_WEBHOOK_URL is set');
    expect(demo({ TRUST_PROXY: '1' }).why).toBe('TRUST_PROXY is set');
    expect(devToolsDecision(loadConfig({ HOST: '10.0.0.5', SMTP_URL: 'smtp://m' }), false).why).toBe('the database holds no demo data; HOST=10.0.0.5 is not a loopback address; SMTP_URL is set');
    // DEV_TOOLS=true forces them on outside production; false keeps them off.
    expect(devToolsDecision(loadConfig({ DEV_TOOLS: 'true', HOST: '0.0.0.0' }), false)).toEqual({ on: true, why: 'DEV_TOOLS=true' });
    expect(demo({ DEV_TOOLS: 'false' })).toEqual({ on: false, why: 'DEV_TOOLS=false' });
  });

  it('takes a proxy hop count or proxy addresses for TRUST_PROXY, and refuses true', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(loadConfig({ TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
    for (const bad of ['true', 'yes', 'on']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(new RegExp(`TRUST_PROXY="${bad}" is not valid: .*left-most X-Forwarded-For address, which any client can write`));
    }
    expect(() => loadConfig({ TRUST_PROXY: 'nginx.local' })).toThrow(/TRUST_PROXY="nginx.local" is not valid/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    // Ranges that mean "everyone" are `true` in disguise.
    for (const wide of ['0.0.0.0/0', '0.0.0.0/1,128.0.0.0/1', '::/0', '2000::/3']) expect(() => loadConfig({ TRUST_PROXY: wide }), wide).toThrow(/no wider than \/8 for IPv4/);
  });

  it('accepts a PostgreSQL URL and an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' }).databaseUrl).toBe('postgres://u@127.0.0.1:5432/db');
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('reads a bank’s CSV statement layout as JSON header names, and names what is missing', () => {
    const c = loadConfig({ STATEMENT_CSV_COLUMNS: '{"valueDate":"Value Dt","narrative":"Particulars","amount":"Amount","drCr":"Dr/Cr","balance":"Closing Balance"}', STATEMENT_CSV_DATE_FORMAT: 'DD-MMM-YYYY' });
    expect(c.statementCsvColumns).toEqual({ valueDate: 'Value Dt', narrative: 'Particulars', amount: 'Amount', drCr: 'Dr/Cr', balance: 'Closing Balance' });
    expect(c.statementCsvDateFormat).toBe('DD-MMM-YYYY');
    expect(loadConfig({}).statementCsvColumns).toBeUndefined();
    expect(() => loadConfig({ STATEMENT_CSV_COLUMNS: '{"valueDate":"Value Dt","narrative":"Particulars"}' })).toThrow(/STATEMENT_CSV_COLUMNS.*balance/);
    expect(() => loadConfig({ STATEMENT_CSV_COLUMNS: '{"valueDate":"Value Dt","colour":"x"}' })).toThrow(/keys among/);
  });

  it('gives the parse pool and the upload limits the defaults the parsers use, and reads each variable', () => {
    expect(parseSettingsFromConfig(loadConfig({}))).toEqual({ ...DEFAULT_POOL_SETTINGS, limits: DEFAULT_PARSE_LIMITS });
    const c = loadConfig({ PARSE_WORKERS: '2', PARSE_TIME_BUDGET_MS: '5000', PARSE_WORKER_MEMORY_MB: '256', MAX_LINE_BYTES: '4096', MAX_CELL_BYTES: '1024', MAX_XLSX_UNCOMPRESSED_BYTES: '10485760', MAX_XLSX_ENTRIES: '50', MAX_STATEMENT_LINES: '1000' });
    expect(parseSettingsFromConfig(c)).toEqual({ workers: 2, timeBudgetMs: 5000, maxOldGenerationSizeMb: 256, limits: { maxLineBytes: 4096, maxCellBytes: 1024, maxXlsxUncompressedBytes: 10485760, maxXlsxEntries: 50, maxStatementLines: 1000 } });
    expect(() => loadConfig({ PARSE_WORKERS: '0' })).toThrow(/PARSE_WORKERS="0" is not valid/);
  });
});
