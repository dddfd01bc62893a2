import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import Fastify, { type FastifyError, type FastifyReply, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import { discomRoutes } from './modules/discoms/index.ts';
import { duesRoutes } from './modules/dues/index.ts';
import { auditRoutes } from './modules/audit/routes.ts';
import { devRoutes } from './modules/dev/routes.ts';
import { auditRefusal, describeAccess, identityRoutes, installAccess } from './modules/identity/index.ts';
import { organisationRoutes } from './modules/organisations/index.ts';
import { taggingRoutes } from './modules/tagging/index.ts';
import { buildGateway, paymentRoutes, SANDBOX_PREFIX } from './modules/payments/index.ts';
import { sandboxRoutes } from './adapters/gateway/sandbox-routes.ts';
import { bankTransferFromWebhook, reconciliationRoutes } from './modules/reconciliation/index.ts';
import type { App, AppContext } from './platform/context.ts';
import { AppError, errorBody, errorCatalog, type ErrorCode } from './platform/errors.ts';
import { healthRoutes } from './platform/http/health.ts';
import { installLimits } from './platform/http/limits.ts';
import { registerMetrics } from './platform/http/metrics.ts';
import { installJsonParser, MAX_JSON_DEPTH, tooDeep } from './platform/http/json.ts';
import { nonFiniteNumbers, validationDetails } from './platform/http/validation.ts';
import { databaseUnavailable } from './platform/db/database.ts';
import { VERSION } from './platform/version.ts';
import { devToolsDecision } from './platform/config.ts';
import { holdsDemoData } from './platform/installation.ts';

/**
 * Builds the HTTP application: platform concerns (request ids, logs, errors, metrics, health,
 * OpenAPI) and then each module's routes. Routes are thin; the modules hold the rules.
 */

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const statusCodes: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
}

/** What kind of install this is: shown in the start banner and, as a band, on every page of a demo. */
export interface InstallInfo {
  demoData: boolean;
  devTools: { on: boolean; why: string };
  sandboxGateway: boolean;
  sandboxBank: boolean;
  /** No real money moves here: demo data, or a sandbox standing for the gateway or the bank. */
  demo: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    install: InstallInfo;
  }
}


const trustHops = (hops: number) => (_addr: string, i: number) => i < hops;

export async function buildApp(given: AppContext, opts: BuildOptions = {}): Promise<App> {
  const payments = given.payments ?? (await buildGateway(given.config, given.database.db));
  payments.onBankTransfer ??= bankTransferFromWebhook;
  const ctx: AppContext = { ...given, payments };
  const demoData = await holdsDemoData(ctx.database.db);
  const sandboxBank = ctx.config.collectionBank === 'sandbox';
  const install: InstallInfo = {
    demoData,
    devTools: devToolsDecision(ctx.config, demoData),
    sandboxGateway: !!payments.sandbox,
    sandboxBank,
    demo: demoData || !!payments.sandbox || sandboxBank,
  };
  const app = Fastify({
    logger: opts.logger ?? {
      level: ctx.config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    },
    // A hop count trusts that many proxies nearest the server (proxy-addr's rule); a list trusts
    // those addresses. Either way the client's own X-Forwarded-For entries are never believed.
    trustProxy: typeof ctx.config.trustProxy === 'number' ? trustHops(ctx.config.trustProxy) : ctx.config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
    bodyLimit: 1024 * 1024,
    // Errors Fastify raises before routing (a malformed URL, an over-long parameter) get our shape too.
    frameworkErrors: (err, req, res) => {
      const reply = res as unknown as FastifyReply;
      const code = statusCodes[err.statusCode ?? 400] ?? 'BAD_REQUEST';
      void reply.header('x-request-id', req.id).header('cache-control', 'no-store').status(errorCatalog[code].status).send(errorBody(new AppError(code), req.id));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('install', install);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // Nothing of the API, and nothing anyone logged in is shown, is kept by a browser or a proxy:
  // dues, receipts, exports and codes stay off shared office PCs' disks.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.principal || req.url.startsWith('/api/') || req.url.startsWith('/sandbox/') || req.url === '/metrics') void reply.header('cache-control', 'no-store');
    return payload;
  });

  // A JSON body nested deeper than MAX_JSON_DEPTH is refused before it is parsed.
  installJsonParser(app);
  // PostgreSQL cannot store a NUL character in text: refuse it as bad input, naming the field.
  // Walked without recursion, and no deeper than MAX_JSON_DEPTH (what another parser gave, a
  // form or a query, is bounded the same way): a hostile input must not overflow the stack.
  app.addHook('preValidation', async (req) => {
    const bad: string[] = [];
    let deep = false;
    const stack: [unknown, string, number][] = [[req.body, 'body', 0], [req.query, 'query', 0], [req.params, 'params', 0]];
    while (stack.length && !deep) {
      const [v, path, depth] = stack.pop()!;
      if (typeof v === 'string') {
        if (v.includes('\u0000')) bad.push(path);
      } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
        if (depth >= MAX_JSON_DEPTH) deep = true;
        else for (const [k, x] of Array.isArray(v) ? v.entries() : Object.entries(v)) stack.push([x, `${path}.${k}`, depth + 1]);
      }
    }
    if (deep) throw tooDeep();
    if (bad.length) {
      throw new AppError('VALIDATION_FAILED', bad.sort().map((path) => ({ path, problem: 'nul_character', message: { en: 'contains a NUL character', hi: 'इसमें NUL अक्षर है' } })));
    }
  });

  // A number in text too large for any number ("1e400") is refused, naming the field.
  app.addHook('preHandler', async (req) => {
    const bad = nonFiniteNumbers({ body: req.body, querystring: req.query, params: req.params });
    if (bad.length) throw new AppError('VALIDATION_FAILED', bad);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    let appErr: AppError;
    const pgCode = (err as { code?: string }).code;
    if (err instanceof AppError) appErr = err;
    else if (pgCode === '22021' || pgCode === '22P05') appErr = new AppError('VALIDATION_FAILED', [{ path: 'body', problem: 'bad_characters', message: { en: 'contains characters that cannot be stored', hi: 'इसमें ऐसे अक्षर हैं जिन्हें सहेजा नहीं जा सकता' } }]);
    else if (err.validation) {
      // Fields Ajv let through as Infinity are listed with the ones it refused.
      appErr = new AppError('VALIDATION_FAILED', [...validationDetails(err.validation, err.validationContext ?? ''), ...nonFiniteNumbers({ body: req.body, querystring: req.query, params: req.params })]);
    } else if (err.statusCode && err.statusCode < 500) appErr = new AppError(statusCodes[err.statusCode] ?? 'BAD_REQUEST');
    else if (databaseUnavailable(err)) {
      // PostgreSQL restarting or unreachable: the client may try again (idempotent writes).
      req.log.warn({ err: { message: err.message, code: pgCode } }, 'database unavailable');
      appErr = new AppError('DATABASE_UNAVAILABLE');
      void reply.header('retry-after', '5');
    } else {
      req.log.error({ err }, 'unhandled error');
      appErr = new AppError('INTERNAL');
    }
    if (appErr.status >= 500 && err instanceof AppError) req.log.warn({ code: appErr.code }, appErr.message);
    if (appErr.status === 403) await auditRefusal(ctx.database.db, req, appErr.code);
    return reply.status(appErr.status).send(errorBody(appErr, req.id));
  });

  registerMetrics(app, ctx.database.db, ctx.config.metricsToken);
  if (ctx.config.processRole === 'worker') {
    // A worker process is not behind the load balancer: it answers its probes and metrics only.
    // Added before any route plugin is registered, so that every route inherits it.
    app.addHook('onRequest', async (req, reply) => {
      if (!['/healthz', '/readyz', '/metrics'].includes(req.url.split('?')[0]!)) {
        return reply.status(404).send(errorBody(new AppError('NOT_FOUND', [], { en: 'This is a worker process: it serves no pages or API.', hi: 'यह एक वर्कर प्रोसेस है: यह कोई पेज या API नहीं देता।' }), req.id));
      }
    });
  }
  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // Swagger UI styles some elements inline; scripts stay 'self' only.
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // The hosted checkout is a form posted to the gateway.
        formAction: ["'self'", ...(ctx.config.paymentGateway === 'razorpay' ? [new URL(ctx.config.razorpayCheckoutUrl).origin] : [])],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // HSTS only makes sense behind TLS; a reverse proxy adds it there.
    strictTransportSecurity: false,
  });
  // Every /api/ route must declare who may call it; the OpenAPI document shows the rule.
  app.addHook('onRoute', describeAccess);
  installAccess(app, ctx);
  await installLimits(app, ctx.database.db, { exportsPerUser: ctx.config.exportsPerUser });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sangrahan API',
        version: VERSION,
        description: 'Collection portal for electricity distribution companies. Money is integer paise, sent as decimal strings.',
      },
      tags: [
        { name: 'auth', description: 'Login, second factor, sessions, passwords' },
        { name: 'organisations', description: 'Registration, the discom’s approval, the organisation’s profile' },
        { name: 'users', description: 'Users of an organisation or of the discom, and their roles' },
        { name: 'offices', description: 'An organisation’s offices (HQ → district → office)' },
        { name: 'api-keys', description: 'API keys for an organisation’s ERP' },
        { name: 'audit', description: 'The hash-chained audit log' },
        { name: 'tagging', description: 'Tagging connections with proof, mass uploads, transfers, the discom’s approvals' },
        { name: 'discoms', description: 'Discoms, their hierarchy and overview counts' },
        { name: 'payments', description: 'Consolidated payments: batches, approval, online checkout, webhooks, receipts, postings' },
        { name: 'reconciliation', description: 'RTGS/NEFT challans, bank credits (Smart Collect, e-collect, statements), gateway settlements, the exception queue, reports and the collections dashboard' },
        { name: 'sandbox', description: 'The embedded sandbox bank and the sandbox gateway’s settlements (no real money; PAYMENT_GATEWAY=sandbox only)' },
        { name: 'dev', description: 'Developer tools of a demo install' },
        { name: 'system', description: 'Health and readiness' },
      ],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sg_session', description: 'Browser session; writes also need the X-CSRF-Token header' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An organisation API key: sgk_…' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { ctx });
  await app.register(discomRoutes, { ctx });
  await app.register(identityRoutes, { ctx });
  await app.register(organisationRoutes, { ctx });
  await app.register(auditRoutes, { ctx });
  await app.register(taggingRoutes, { ctx });
  await app.register(duesRoutes, { ctx });
  await app.register(paymentRoutes, { ctx });
  await app.register(reconciliationRoutes, { ctx });
  app.get(
    '/api/v1/meta',
    {
      config: { access: { public: true } },
      schema: {
        tags: ['system'],
        summary: 'What kind of install this is: a demo (no real money), with sandboxes or developer pages',
        response: { 200: Type.Object({ version: Type.String(), demo: Type.Boolean(), demoData: Type.Boolean(), sandboxGateway: Type.Boolean(), sandboxBank: Type.Boolean(), devTools: Type.Boolean() }) },
      },
    },
    async () => ({ version: VERSION, demo: install.demo, demoData, sandboxGateway: install.sandboxGateway, sandboxBank, devTools: install.devTools.on }),
  );

  // The sandbox gateway only when it is the configured gateway; its control, like every developer
  // page, only when the developer pages are on, and then for direct loopback requests only.
  if (ctx.payments?.sandbox) await app.register(sandboxRoutes, { sandbox: ctx.payments.sandbox, devTools: install.devTools.on });
  if (install.devTools.on) await app.register(devRoutes, { ctx });

  const index = path.join(ctx.config.webDist, 'index.html');
  const haveWeb = fs.existsSync(index);
  if (haveWeb) await app.register(fastifyStatic, { root: ctx.config.webDist, wildcard: false, index: false });

  app.setNotFoundHandler((req, reply) => {
    // Everything under /sandbox/ but the sandbox bank's page is an API: an unmounted sandbox is a 404.
    const path = req.url.split('?')[0]!;
    const isApi = path.startsWith('/api/') || path === '/metrics' || path.startsWith(SANDBOX_PREFIX) || (path.startsWith('/sandbox/') && path !== '/sandbox/bank');
    if (req.method === 'GET' && !isApi) {
      // The web app routes in the browser: every page URL gets index.html.
      if (haveWeb) return reply.type('text/html').sendFile('index.html');
      return reply
        .type('text/html')
        .send('<!doctype html><title>Sangrahan</title><p>The web app is not built. Run <code>npm run build:web</code>.</p>');
    }
    return reply.status(404).send(errorBody(new AppError('NOT_FOUND'), req.id));
  });

  return app;
}
