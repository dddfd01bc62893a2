import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

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

  it('turns the developer pages on only for a development demo, and refuses them in production', () => {
    expect(loadConfig({}).devTools).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).devTools).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }).devTools).toBe(false);
    expect(() => loadConfig({ NODE_ENV: 'production', DEV_TOOLS: 'true' })).toThrow(/must never run in production/);
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
});
