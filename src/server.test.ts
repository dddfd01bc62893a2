import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../test/helpers/config.ts';
import { engineName, freshDatabase } from '../test/helpers/db.ts';
import { BillingSimulator } from './adapters/billing-system/simulator.ts';
import { seedDemo } from './modules/demo/seed.ts';
import type { App } from './platform/context.ts';
import type { Database } from './platform/db/database.ts';
import { buildApp } from './server.ts';

describe(`HTTP API on ${engineName}`, () => {
  let database: Database;
  let app: App;
  const webDist = fs.mkdtempSync(path.join(os.tmpdir(), 'sangrahan-web-'));

  beforeAll(async () => {
    database = await freshDatabase();
    await seedDemo(database, { seed: 11, connections: 300, asOf: new Date('2026-11-26T12:00:00Z') });
    fs.writeFileSync(path.join(webDist, 'index.html'), '<!doctype html><title>Sangrahan test shell</title>');
    app = await buildApp({ config: testConfig({ webDist }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    app.get('/api/v1/test-boom', { config: { access: { public: true } } }, async () => {
      throw new Error('secret internal detail');
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await database.close();
    fs.rmSync(webDist, { recursive: true, force: true });
  });

  it('answers liveness and readiness', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', database: 'ok', pendingMigrations: [] });
  });

  it('gives the overview: both discoms with counts that match the database, money as paise strings', async () => {
    const res = await app.inject('/api/v1/overview');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.discoms.map((d: { code: string }) => d.code)).toEqual(['NBPDCL', 'SBPDCL']);
    const total = body.discoms.reduce((s: number, d: { connections: number }) => s + d.connections, 0);
    expect(total).toBe(300);
    for (const d of body.discoms) {
      expect(d.duesPaise).toMatch(/^\d+$/);
      expect(d.nameHi).toMatch(/[\u0900-\u097F]/);
    }
    const dues = await database.db
      .selectFrom('connections')
      .select((eb) => eb.fn.sum<bigint>('balance_paise').as('s'))
      .where('balance_paise', '>', 0n)
      .executeTakeFirstOrThrow();
    expect(body.discoms.reduce((s: bigint, d: { duesPaise: string }) => s + BigInt(d.duesPaise), 0n)).toBe(BigInt(dues.s));
    expect(body.organisations.total).toBe(18);
    expect(body.billing.source).toBe('simulator');
  });

  it('gives a discom with its policy and hierarchy, case-insensitively', async () => {
    const res = await app.inject('/api/v1/discoms/sbpdcl');
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(d.code).toBe('SBPDCL');
    expect(d.policy).toMatchObject({ rebateDueDateBp: 150, dpsMonthlyBp: 150, partPaymentAllowed: true });
    expect(d.circles.length).toBeGreaterThan(5);
    expect(d.circles[0].divisions[0].subdivisions[0].code).toMatch(/^\d{3}$/);
  });

  it('answers an unknown discom with 404 and a bilingual message', async () => {
    const res = await app.inject('/api/v1/discoms/UPPCL');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'NOT_FOUND', message: { en: 'Not found.', hi: 'नहीं मिला।' } });
  });

  it('gives errors raised before routing the same shape, with a request id', async () => {
    for (const url of ['/api/v1/discoms/%E0%A4%A', `/api/v1/discoms/${'A'.repeat(200)}`]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(400);
      const err = res.json().error;
      expect(Object.keys(err).sort()).toEqual(['code', 'details', 'message', 'requestId']);
      expect(Object.keys(err.message).sort()).toEqual(['en', 'hi']);
      expect(err.requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('lists each bad field with English and Hindi messages, never a 500', async () => {
    const res = await app.inject('/api/v1/discoms/N0T-V@LID');
    expect(res.statusCode).toBe(400);
    const err = res.json().error;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details).toEqual([
      { path: 'params.code', problem: 'pattern', message: { en: 'is not in the expected format', hi: 'अपेक्षित प्रारूप में नहीं है' } },
    ]);
  });

  it('carries a request id: the caller’s when well-formed, a new one otherwise', async () => {
    const mine = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers['x-request-id']).toBe('trace-123');
    const bad = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hides internal errors behind a 500 with the request id, not the detail', async () => {
    const res = await app.inject('/api/v1/test-boom');
    expect(res.statusCode).toBe(500);
    const err = res.json().error;
    expect(err.code).toBe('INTERNAL');
    expect(err.requestId).toBe(res.headers['x-request-id']);
    expect(res.body).not.toContain('secret internal detail');
  });

  it('answers unknown API paths with JSON 404 and page paths with the web app', async () => {
    const api = await app.inject('/api/v1/nothing-here');
    expect(api.statusCode).toBe(404);
    expect(api.json().error).toMatchObject({ code: 'NOT_FOUND', message: { en: 'Not found.', hi: 'नहीं मिला।' } });
    expect(Object.keys(api.json().error.message)).toEqual(['en', 'hi']);
    const page = await app.inject('/discoms/NBPDCL');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Sangrahan test shell');
  });

  it('serves Prometheus metrics counting requests by route', async () => {
    await app.inject('/api/v1/overview');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/sangrahan_http_requests_total\{method="GET",route="\/api\/v1\/overview",status="200"\} \d+/);
    expect(res.body).toContain('sangrahan_process_cpu_seconds_total');
    // The backlogs an operator alerts on, read from the database.
    expect(res.body).toMatch(/^sangrahan_database_up 1$/m);
    expect(res.body).toMatch(/^sangrahan_postings_pending 0$/m);
    expect(res.body).toMatch(/^sangrahan_recon_exceptions_open 0$/m);
  });

  it('serves only its probes and metrics from a worker process (PROCESS_ROLE=worker)', async () => {
    const worker = await buildApp({ config: testConfig({ webDist, processRole: 'worker' }), database, billing: new BillingSimulator(database), clock: () => new Date() });
    try {
      expect((await worker.inject('/healthz')).statusCode).toBe(200);
      expect((await worker.inject('/readyz')).statusCode).toBe(200);
      expect((await worker.inject('/metrics')).body).toContain('sangrahan_database_up 1');
      for (const url of ['/api/v1/overview', '/api/v1/org/dues', '/api/docs/', '/', '/discoms/NBPDCL']) {
        const r = await worker.inject(url);
        expect(r.statusCode, url).toBe(404);
      }
      expect((await worker.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { loginId: 'x', password: 'y' } })).statusCode).toBe(404);
      expect((await app.inject('/api/v1/overview')).statusCode).toBe(200);
    } finally {
      await worker.close();
    }
  });

  it('publishes an OpenAPI document generated from the route schemas, and a page to browse it', async () => {
    const doc = (await app.inject('/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/overview', '/api/v1/discoms/{code}', '/healthz', '/readyz']));
    expect(doc.paths['/api/v1/discoms/{code}'].get.responses['404']).toBeDefined();
    const ui = await app.inject('/api/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});
