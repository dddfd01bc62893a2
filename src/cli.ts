import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { BillingSimulator } from './adapters/billing-system/simulator.ts';
import { NotificationSender } from './adapters/notifier/notifier.ts';
import { verifyAudit, type Checkpoint } from './modules/audit/index.ts';
import { checkAuditKey, initAuditKey, rekeyAudit, RekeyRefused } from './modules/audit/key.ts';
import { AuditKeyMismatch, keyIdOf } from './modules/audit/audit.ts';
import { holdsDemoData } from './platform/installation.ts';
import { createFirstAdmin, initTotpKey, InitRefused, purgeExpired, resealSecrets, sealClearSecrets, totpKeyId, TotpKeyMismatch } from './modules/identity/index.ts';
import { importBillingCsv, syncFromBillingSystem } from './modules/connections/index.ts';
import { runDailyAlerts } from './modules/dues/index.ts';
import { usersWithPublishedPassword } from './modules/demo/people.ts';
import { ONLINE_COLLECTIONS, SeedRefused, seedDemo, seedReferenceData, tagDemoConnections } from './modules/demo/seed.ts';
import { ConfigError, isLoopbackHost, loadConfig, type Config } from './platform/config.ts';
import { openDatabase, type Database } from './platform/db/database.ts';
import { DataDirLockedError } from './platform/db/dir-lock.ts';
import { MigrationError, migrate } from './platform/db/migrate.ts';
import { formatDuration, formatInt } from './platform/format.ts';
import { buildJobRunner } from './jobs.ts';
import { httpSend } from './adapters/gateway/sandbox.ts';
import { buildGateway, runJanitor, runPostings, SANDBOX_KEY_ID } from './modules/payments/index.ts';
import { checkInvariants, InvariantBroken } from './modules/payments/invariants.ts';
import { applyWaitingCredits, expireChallans, flagUnsettled, workingDaysBefore } from './modules/reconciliation/index.ts';
import { SandboxBank } from './adapters/bank/sandbox.ts';
import { configureParsing, parseSettingsFromConfig } from './platform/parse-pool.ts';
import { buildApp, type InstallInfo } from './server.ts';

const USAGE = `Sangrahan: collection portal for discoms

Usage: sangrahan <command> [options]      (npm run cli -- <command> …)

Commands:
  serve                     migrate, load demo data on a new embedded database, serve HTTP
  migrate                   apply pending database migrations
  seed --seed N --connections K [--as-of YYYY-MM-DD] [--tag]
                            load deterministic Bihar-like demo data into an empty database
                            (--tag: tag four in five of each demo organisation's own connections)
  seed --reference-only     load only Bihar's discoms, hierarchy and tariff categories
  import [--connections FILE] [--bills FILE] [--extracted-at TIME]
                            import consumer master and bills from CSV; all rows or none
  sync                      one incremental sync from the billing system (the simulator)
  alerts [--force]          today's due-date and disconnection-risk alerts (once a day; --force: before ALERT_HOUR_IST)
  verify-audit [--checkpoint FILE]
                            recompute the audit log's hash chains; exits 1 if a row was changed or deleted
  audit-rekey               move the audit log to a new key: verifies it with OLD_AUDIT_KEY ('none' if it
                            was unkeyed; unset: the key file in DATA_DIR), then re-hashes every chain with
                            AUDIT_KEY. Run it with the portal stopped; take a new checkpoint after
  totp-rekey                re-encrypt the authenticator secrets from OLD_TOTP_ENCRYPTION_KEY (unset: the
                            key file in DATA_DIR) to TOTP_ENCRYPTION_KEY. Run it with the portal stopped
  init                      a real install: Bihar's discoms and the first discom administrator (holding
                            company), from INIT_ADMIN_* variables or prompts; refused on demo data
  verify-money              check the money invariants (ledger, allocations, receipts, postings,
                            credits, challans); exits 1 naming the first that does not hold

Configuration is read from the environment; see README.md.`;

class UsageError extends Error {}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function open(config: Config): Promise<Database> {
  initKeys(config);
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.dbPoolMax,
  });
}

function where(config: Config): string {
  if (!config.databaseUrl) return `embedded PGlite in ${config.dataDir}`;
  const u = new URL(config.databaseUrl);
  return `PostgreSQL ${u.host}${u.pathname}`;
}

async function cmdMigrate(config: Config): Promise<void> {
  const database = await open(config);
  try {
    const ran = await migrate(database);
    log(ran.length ? `Applied ${ran.length} migration(s) to ${where(config)}: ${ran.join(', ')}` : `${where(config)} is up to date.`);
  } finally {
    await database.close();
  }
}

function progress(label: string) {
  const started = Date.now();
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (done < total && now - last < 1000) return;
    last = now;
    const pct = Math.floor((done / total) * 100);
    process.stdout.write(`\r${label}: ${formatInt(done)} of ${formatInt(total)} connections (${pct}%), ${formatDuration(now - started)}   `);
    if (done === total) process.stdout.write('\n');
  };
}

async function cmdSeed(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: 'string', default: '42' },
      connections: { type: 'string', default: '20000' },
      'as-of': { type: 'string' },
      'reference-only': { type: 'boolean', default: false },
      tag: { type: 'boolean', default: false },
    },
  });
  if (values['reference-only']) {
    const database = await open(config);
    try {
      await migrate(database);
      await seedReferenceData(database);
      log(`Loaded Bihar's discoms, circles, divisions, subdivisions and tariff categories into ${where(config)}.`);
    } finally {
      await database.close();
    }
    return;
  }
  const seed = Number(values.seed);
  const connections = Number(values.connections);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number of 0 or more, not "${values.seed}"`);
  if (!Number.isInteger(connections) || connections < 1 || connections > 50_000_000) {
    throw new UsageError(`--connections must be a whole number from 1 to 50000000, not "${values.connections}"`);
  }
  let asOf: Date | undefined;
  if (values['as-of']) {
    asOf = new Date(`${values['as-of']}T12:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(values['as-of']) || Number.isNaN(asOf.getTime())) {
      throw new UsageError(`--as-of must be a date such as 2025-03-31, not "${values['as-of']}"`);
    }
  }
  const database = await open(config);
  try {
    await migrate(database);
    await checkKeys(database);
    log(`Seeding ${formatInt(connections)} connections with 12 months of bills (seed ${seed}) into ${where(config)}`);
    const r = await seedDemo(database, { seed, connections, ...(asOf ? { asOf } : {}), onProgress: progress('Loaded') });
    log(`Done: ${formatInt(r.connections)} connections, ${formatInt(r.bills)} bills, ${r.organisations} organisations in ${formatDuration(r.ms)}.`);
    if (values.tag) log(`Tagged ${formatInt(await tagDemoConnections(database))} connections to the demo organisations (owner match, four in five).`);
  } finally {
    await database.close();
  }
}

async function cmdImport(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { connections: { type: 'string' }, bills: { type: 'string' }, 'extracted-at': { type: 'string' } },
  });
  const files = [values.connections, values.bills].filter((f): f is string => !!f);
  if (!files.length) throw new UsageError('import needs --connections FILE, --bills FILE or both');
  for (const f of files) if (!fs.existsSync(f)) throw new UsageError(`No such file: ${f}`);
  let extractedAt = new Date(Math.max(...files.map((f) => fs.statSync(f).mtimeMs)));
  if (values['extracted-at']) {
    extractedAt = new Date(values['extracted-at']);
    if (Number.isNaN(extractedAt.getTime())) throw new UsageError(`--extracted-at must be a date and time such as 2026-03-31T18:00:00+05:30`);
  }
  const database = await open(config);
  try {
    await migrate(database);
    await checkKeys(database);
    const r = await importBillingCsv(database, { connections: values.connections, bills: values.bills }, { extractedAt });
    if (r.problemCount) {
      log(`Nothing was imported: ${formatInt(r.problemCount)} problem(s) found.`);
      for (const p of r.problems) log(`  ${p.file} file, line ${p.row}: ${p.message.en}`);
      if (r.problemCount > r.problems.length) log(`  … and ${formatInt(r.problemCount - r.problems.length)} more.`);
      return 1;
    }
    log(`Imported ${formatInt(r.connections)} connection(s) and ${formatInt(r.bills)} bill(s) into ${where(config)} (files as of ${extractedAt.toISOString()}).`);
    const same = r.staged.connections - r.connections + (r.staged.bills - r.bills);
    if (same) log(`${formatInt(same)} row(s) were left as they were: the portal already holds the same or newer data.`);
    return 0;
  } finally {
    await database.close();
  }
}

async function cmdSync(config: Config): Promise<void> {
  const database = await open(config);
  try {
    await migrate(database);
    await checkKeys(database);
    const r = await syncFromBillingSystem(database, new BillingSimulator(database));
    if (!r.ran) log('Another sync from this billing system is running; nothing done.');
    else {
      log(`Synced: ${formatInt(r.connections)} connection(s) and ${formatInt(r.bills)} bill(s) written, in ${r.pages} page(s).`);
      if (r.rejected) log(`${formatInt(r.rejected)} row(s) could not be applied and are quarantined in billing_sync_rejects.`);
    }
  } finally {
    await database.close();
  }
}

async function cmdAlerts(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { force: { type: 'boolean' } } });
  const database = await open(config);
  try {
    await migrate(database);
    await checkKeys(database);
    const r = await runDailyAlerts(database.db, config, new Date(), { force: values.force ?? false });
    if (!r.ran) log(r.reason === 'before_hour' ? `Alerts run at ${config.alertHourIst}:00 IST; use --force to run now.` : `Alerts for ${r.day} were already sent.`);
    else log(`Alerts for ${r.day}: ${formatInt(r.alerts)} alert(s) for ${formatInt(r.offices)} office(s), ${formatInt(r.messages)} message(s) queued.`);
  } finally {
    await database.close();
  }
}

async function cmdVerifyMoney(config: Config): Promise<number> {
  const database = await open(config);
  try {
    await migrate(database);
    const t = Date.now();
    try {
      await checkInvariants(database.db);
    } catch (e) {
      if (!(e instanceof InvariantBroken)) throw e;
      log(`Money invariants NOT holding: ${e.message}`);
      return 1;
    }
    log(`Money invariants hold: ledger balanced, allocations = payments, receipts, postings, credits and challans agree (checked in ${formatDuration(Date.now() - t)}).`);
    return 0;
  } finally {
    await database.close();
  }
}

async function cmdAuditRekey(config: Config): Promise<number> {
  if (!config.auditKey) throw new UsageError('audit-rekey needs AUDIT_KEY: the new key (32+ characters)');
  const raw = process.env.OLD_AUDIT_KEY;
  const file = path.join(config.dataDir, 'audit.key');
  const oldKey = raw === 'none' ? null : raw || (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined);
  if (oldKey === undefined) throw new UsageError(`audit-rekey needs OLD_AUDIT_KEY: the key the log was kept with ('none' if it was unkeyed), or a key file at ${file}`);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1 });
  try {
    await migrate(database);
    const t = Date.now();
    const r = await rekeyAudit(database, oldKey, config.auditKey);
    log(`Audit log re-keyed from key id ${keyIdOf(oldKey)} to ${keyIdOf(config.auditKey)}: ${formatInt(r.rows)} entries in ${formatInt(r.chains)} chain(s), in ${formatDuration(Date.now() - t)}.`);
    if (!raw && fs.existsSync(file)) log(`The old key file ${file} is no longer used: keep it until you have checked the log with verify-audit, then delete it.`);
    log('Take a new checkpoint now: verify-audit --checkpoint FILE.');
    return 0;
  } catch (e) {
    if (!(e instanceof RekeyRefused)) throw e;
    log(e.message);
    return 1;
  } finally {
    await database.close();
  }
}

async function cmdTotpRekey(config: Config): Promise<number> {
  if (!config.totpEncryptionKey) throw new UsageError('totp-rekey needs TOTP_ENCRYPTION_KEY: the new key (32+ characters)');
  const file = path.join(config.dataDir, 'totp.key');
  const oldKey = process.env.OLD_TOTP_ENCRYPTION_KEY || (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined);
  if (!oldKey) throw new UsageError(`totp-rekey needs OLD_TOTP_ENCRYPTION_KEY: the key the secrets were sealed with (or a key file at ${file})`);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1 });
  try {
    await migrate(database);
    const n = await resealSecrets(database.db, oldKey, config.totpEncryptionKey);
    log(`Authenticator secrets of ${formatInt(n)} user(s) re-encrypted with TOTP key id ${totpKeyId()}.`);
    return 0;
  } finally {
    await database.close();
  }
}

/** A question on the terminal; a hidden one (a password) echoes nothing. */
async function ask(question: string, hidden = false): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    const w = rl as unknown as { _writeToOutput: (s: string) => void };
    w._writeToOutput = (s: string) => {
      if (s.includes(question)) process.stdout.write(question);
      else if (s.includes('\n')) process.stdout.write('\n');
    };
  }
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

async function cmdInit(config: Config): Promise<void> {
  const env = process.env;
  const fields = [
    ['loginId', 'INIT_ADMIN_LOGIN_ID', 'Login ID of the first discom administrator: '],
    ['name', 'INIT_ADMIN_NAME', 'Their name: '],
    ['email', 'INIT_ADMIN_EMAIL', 'Their e-mail: '],
    ['mobile', 'INIT_ADMIN_MOBILE', 'Their mobile (10 digits): '],
  ] as const;
  const answers: Record<string, string> = {};
  const missing = [...fields.filter(([, v]) => !env[v]?.trim()).map(([, v]) => v), ...(env.INIT_ADMIN_PASSWORD ? [] : ['INIT_ADMIN_PASSWORD'])];
  if (missing.length && !process.stdin.isTTY) throw new UsageError(`init needs ${missing.join(', ')} (or run it in a terminal to be asked)`);
  for (const [k, v, q] of fields) answers[k] = (env[v]?.trim() || (await ask(q))).trim();
  let password = env.INIT_ADMIN_PASSWORD ?? '';
  if (!password) {
    password = await ask('Their password (10+ characters, not common): ', true);
    if ((await ask('The password again: ', true)) !== password) throw new UsageError('The two passwords differ; nothing was created.');
  }
  const database = await open(config);
  try {
    await migrate(database);
    await checkKeys(database);
    if (!(await database.db.selectFrom('discoms').select('id').limit(1).executeTakeFirst())) {
      await seedReferenceData(database);
      log(`Loaded Bihar's discoms (NBPDCL, SBPDCL), their circles, divisions and subdivisions, and tariff categories into ${where(config)}.`);
    }
    await createFirstAdmin(database.db, { loginId: answers.loginId!.toLowerCase(), name: answers.name!, email: answers.email!, mobile: answers.mobile!, password });
    log(`Created ${answers.loginId!.toLowerCase()}, discom administrator of the holding company (both discoms), in ${where(config)}.`);
    log('At their first login they enrol an authenticator app; then they invite the discoms’ staff from Staff.');
  } finally {
    await database.close();
  }
}

async function cmdVerifyAudit(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { checkpoint: { type: 'string' } } });
  const database = await open(config);
  try {
    await migrate(database);
    await checkAuditKey(database.db);
    const file = values.checkpoint;
    const checkpoint = file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Checkpoint) : null;
    const r = await verifyAudit(database, checkpoint);
    if (!r.problems.length) {
      if (file) fs.writeFileSync(file, `${JSON.stringify(r.heads, null, 1)}\n`);
      log(`Audit log intact: ${formatInt(r.rows)} entries in ${formatInt(r.chains)} chain(s) verified${checkpoint ? ' against the checkpoint' : ''}.`);
      return 0;
    }
    log(`Audit log NOT intact: ${formatInt(r.problems.length)} problem(s) in ${formatInt(r.rows)} entries:`);
    for (const p of r.problems.slice(0, 200)) log(`  ${p.message}`);
    return 1;
  } finally {
    await database.close();
  }
}

/** The keys kept outside the database, checked against what the database was written with. */
async function checkKeys(database: Database): Promise<void> {
  await checkAuditKey(database.db);
  const sealed = await sealClearSecrets(database.db);
  if (sealed) log(`Encrypted the authenticator secrets of ${formatInt(sealed)} user(s) that were stored in clear.`);
}

function initKeys(config: Config): void {
  initAuditKey(config, (m) => log(`Warning: ${m}`));
  if (initTotpKey(config) === 'file' && config.databaseUrl) log(`Warning: TOTP_ENCRYPTION_KEY is not set: authenticator secrets are encrypted with a key file in ${config.dataDir}. Set TOTP_ENCRYPTION_KEY (32+ characters) so that every process has the same key.`);
}

class Refused extends Error {
  override name = 'Refused';
}

async function cmdServe(config: Config): Promise<void> {
  const started = Date.now();
  const database = await open(config);
  const billing = new BillingSimulator(database);
  let closing = false;
  try {
    const ran = await migrate(database);
    if (ran.length) log(`Applied ${ran.length} migration(s): ${ran.join(', ')}`);
    if (config.nodeEnv === 'production' && (await holdsDemoData(database.db))) {
      throw new Refused(`NODE_ENV=production: ${where(config)} holds demo data (published passwords and authenticator secrets). Point DATABASE_URL at the production database; demo data is never served in production.`);
    }
    if (config.nodeEnv === 'production') {
      const open = await usersWithPublishedPassword(database.db);
      if (open.length) throw new Refused(`NODE_ENV=production: ${open.join(', ')} still ${open.length > 1 ? 'have' : 'has'} the demo password published in README. Disable ${open.length > 1 ? 'them' : 'it'} or set a new password first.`);
    }
    if (!config.databaseUrl && config.demoSeed) await firstStartDemo(database, config);
    await checkKeys(database);
  } catch (e) {
    await database.close();
    throw e;
  }
  const sender = new NotificationSender(database.db, { smtpUrl: config.smtpUrl, smtpFrom: config.smtpFrom, smsWebhookUrl: config.smsWebhookUrl });
  const payments = await buildGateway(config, database.db);
  const app = await buildApp({ config, database, billing, clock: () => new Date(), sender, payments });
  // A web process serves requests only; the background work runs in `all` and `worker` processes.
  const background = config.processRole !== 'web';
  const every = (ms: number, fn: () => void): NodeJS.Timeout | undefined => (background ? setInterval(fn, ms).unref() : undefined);
  const sendTimer = sender.configured ? every(10_000, () => void sender.flush().catch((e: Error) => app.log.warn({ err: e }, 'sending notifications failed'))) : undefined;
  const runner = buildJobRunner(database, { leaseMs: config.jobLeaseSeconds * 1000, concurrency: config.jobConcurrency, log: (msg, extra) => app.log.warn(extra ?? {}, msg) }, { tagLookupsPerDay: config.tagLookupsPerDay });
  if (background) runner.start();
  const purgeTimer = every(3_600_000, () =>
    void purgeExpired(database.db).then((r) => app.log.info({ purged: r }, 'expired sessions and throttles removed'), (e: Error) => app.log.warn({ err: e }, 'purge failed')),
  );
  // The next sync is scheduled when the last one ends, so runs never pile up in this process;
  // across processes, syncFromBillingSystem lets one run at a time.
  let syncTimer: NodeJS.Timeout | undefined;
  let syncing: Promise<unknown> = Promise.resolve();
  const scheduleSync = () => {
    if (closing || !background || config.billingSyncIntervalS <= 0) return;
    syncTimer = setTimeout(() => {
      syncing = syncFromBillingSystem(database, billing)
        .then(
          (r) => app.log.info({ sync: r }, 'billing sync done'),
          (e: Error) => app.log.warn({ err: e }, 'billing sync failed'),
        )
        .finally(scheduleSync);
    }, config.billingSyncIntervalS * 1000);
    syncTimer.unref();
  };
  scheduleSync();
  // The daily alerts: checked every 5 minutes; alert_runs lets one run per IST day happen, in
  // whichever process gets there first.
  let alerting: Promise<unknown> = Promise.resolve();
  const alertTimer = every(300_000, () => {
    alerting = runDailyAlerts(database.db, config, new Date()).then(
      (r) => r.ran && app.log.info({ alerts: r }, 'daily alerts sent'),
      (e: Error) => app.log.warn({ err: e }, 'daily alerts failed'),
    );
  });

  // Money in motion: postings to the billing system (every 2 s), the sandbox gateway's webhook
  // deliveries and pending captures (every second), and the janitor (every minute). Each is safe
  // in several processes at once (row claims, leases, idempotent handlers).
  let moneyBusy = false;
  let moving: Promise<unknown> = Promise.resolve();
  const moneyTimer = every(2_000, () => {
    if (moneyBusy || closing) return;
    moneyBusy = true;
    moving = Promise.all([
      runPostings(database.db, billing).then((r) => r.claimed && app.log.info({ postings: r }, 'postings sent')),
      payments.sandbox?.pump(httpSend),
      // Statement credits matched to one challan, applied one by one (a large import leaves many).
      applyWaitingCredits(database.db, 100).then((r) => (r.applied || r.held) && app.log.info({ credits: r }, 'statement credits applied')),
    ])
      .catch((e: Error) => app.log.warn({ err: e }, 'postings, sandbox deliveries or credits failed'))
      .finally(() => (moneyBusy = false));
  });
  const janitorTimer = every(config.janitorIntervalS * 1000, () => {
    void runJanitor({ db: database.db, gateway: payments.gateway, onBankTransfer: payments.onBankTransfer }, config.paymentPendingMinutes).then(
      (r) => (r.queried || r.events) && app.log.info({ janitor: r }, 'janitor ran'),
      (e: Error) => app.log.warn({ err: e }, 'janitor failed'),
    );
    // The sandbox gateway settles as Razorpay does, T+2 working days, into the sandbox bank.
    if (payments.sandbox && config.collectionBank === 'sandbox') {
      const bank = new SandboxBank(database.db);
      void payments.sandbox
        .settle(config.razorpayKeyId ?? SANDBOX_KEY_ID, workingDaysBefore(new Date(), 2), (x) =>
          bank.bookCredit(ONLINE_COLLECTIONS.accountNo, { utr: x.utr, amountPaise: x.amountPaise, at: x.at, mode: 'NEFT', narrative: `RAZORPAY SETTLEMENT ${x.id} UTR ${x.utr}`, payerName: 'Razorpay Software Pvt Ltd' }),
        )
        .catch((e: Error) => app.log.warn({ err: e }, 'sandbox settlement failed'));
    }
    // Gateway payments not settled in time become exceptions (once each).
    void flagUnsettled(database.db, new Date()).then(
      (n) => n && app.log.warn({ notSettled: n }, 'gateway payments not settled in time'),
      (e: Error) => app.log.warn({ err: e }, 'checking settlements failed'),
    );
    // RTGS/NEFT challans past their deadline free their bills.
    void expireChallans(database.db, new Date()).then(
      (n) => n && app.log.info({ expired: n }, 'challans expired'),
      (e: Error) => app.log.warn({ err: e }, 'expiring challans failed'),
    );
  });

  const shutdown = async (signal: string) => {
    if (closing) {
      log('Second signal: exiting now.');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal }, 'shutting down');
    if (syncTimer) clearTimeout(syncTimer);
    if (sendTimer) clearInterval(sendTimer);
    clearInterval(purgeTimer);
    clearInterval(alertTimer);
    clearInterval(moneyTimer);
    clearInterval(janitorTimer);
    const force = setTimeout(() => {
      app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close(); // stops accepting, waits for requests in flight
      await runner.stop(); // finishes the job in hand; an unfinished one is taken up again after restart
      await syncing;
      await alerting;
      await moving;
      await database.close();
      process.exit(0);
    } catch (e) {
      app.log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('://127.0.0.1', '://localhost');
  // The sandbox gateway sends its webhooks to this portal, wherever it listens.
  // (Not from a worker, which serves no webhooks: the web processes' PUBLIC_URL is the address.)
  if (payments.sandbox && config.processRole !== 'worker') await payments.sandbox.merchant(config.razorpayKeyId ?? SANDBOX_KEY_ID, { webhookUrl: `${config.publicUrl ?? address}/api/v1/webhooks/razorpay` });
  log('');
  log(`Sangrahan is running at ${url}  (started in ${formatDuration(Date.now() - started)})`);
  log(`  database: ${where(config)}${config.databaseUrl ? '' : ' (embedded: one process, no fsync; use PostgreSQL for real money)'}`);
  log(`  API docs: ${url}/api/docs    health: ${url}/healthz    metrics: ${url}/metrics (${config.metricsToken ? 'this machine, or with METRICS_TOKEN' : 'this machine only'})`);
  for (const line of installBanner(app.install, config, url)) log(`  ${line}`);
  if (!(await database.db.selectFrom('users').select('id').limit(1).executeTakeFirst())) {
    log('  No users yet: create the first discom administrator with `npm run cli -- init` (README, "A real install").');
  }
  if (config.processRole !== 'all') log(`  role: ${config.processRole} (${config.processRole === 'web' ? 'serves the portal; the background work runs in a worker' : 'background work only; serves no pages'})`);
  log('  Stop with Ctrl-C.');
  log('');
}

/** What this install exposes, and to whom: the start banner's lines. */
export function installBanner(install: InstallInfo, config: Config, url: string): string[] {
  const out: string[] = [];
  if (install.demo) {
    const what = [
      install.demoData ? 'demo data whose logins, password and authenticator secrets are published in README' : null,
      install.sandboxGateway ? 'the sandbox gateway (PAYMENT_GATEWAY): anyone who reaches it can mark a batch paid' : null,
      install.sandboxBank ? 'the sandbox bank (COLLECTION_BANK): anyone who reaches it can credit a challan and read the collection accounts’ statements' : null,
    ].filter(Boolean);
    out.push(`DEMO — not for real money: ${what.join('; ')}.`);
  }
  if (install.devTools.on) {
    out.push(`Developer pages ON (${install.devTools.why}): ${url}/dev/outbox shows every SMS and e-mail with its one-time codes (password resets, tagging OTPs) and the demo logins’ authenticator codes;`);
    out.push(`  ${install.sandboxGateway ? '/sandbox/razorpay/control steers the sandbox gateway. ' : ''}They answer only requests made on this machine directly (loopback, no proxy headers).`);
  } else {
    out.push(`Developer pages off (${install.devTools.why}).`);
  }
  if (!isLoopbackHost(config.host)) out.push(`Listening on ${config.host}: reachable from other machines${install.demo ? ', with the sandboxes above' : ''}.`);
  return out;
}

async function firstStartDemo(database: Database, config: Config): Promise<void> {
  const { db } = database;
  // A real install (`cli init` made its first administrator) never gets demo data.
  if (!(await holdsDemoData(db)) && (await db.selectFrom('users').select('id').limit(1).executeTakeFirst())) return;
  const hasConnections = await db.selectFrom('connections').select('id').limit(1).executeTakeFirst();
  if (hasConnections) {
    const done = await db.selectFrom('billing_sync_state').select('source').executeTakeFirst();
    if (!done) log(`Warning: demo data in ${config.dataDir} looks incomplete (an interrupted first start). Delete that folder to load it again.`);
    return;
  }
  log(`First start: loading demo data (${formatInt(config.demoConnections)} connections, seed ${config.demoRandomSeed}) into ${config.dataDir} …`);
  const r = await seedDemo(database, {
    seed: config.demoRandomSeed,
    connections: config.demoConnections,
    onProgress: progress('Demo data'),
  });
  const tagged = await tagDemoConnections(database);
  log(`Demo data ready: ${formatInt(r.connections)} connections, ${formatInt(r.bills)} bills in ${formatDuration(r.ms)}; ${formatInt(tagged)} connections tagged to the demo organisations.`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    log(USAGE);
    return command ? 0 : 2;
  }
  try {
    const config = loadConfig();
    await configureParsing(parseSettingsFromConfig(config));
    switch (command) {
      case 'serve':
        await cmdServe(config);
        return -1; // keeps running
      case 'migrate':
        await cmdMigrate(config);
        return 0;
      case 'seed':
        await cmdSeed(config, rest);
        return 0;
      case 'import':
        return await cmdImport(config, rest);
      case 'sync':
        await cmdSync(config);
        return 0;
      case 'alerts':
        await cmdAlerts(config, rest);
        return 0;
      case 'verify-audit':
        return await cmdVerifyAudit(config, rest);
      case 'verify-money':
        return await cmdVerifyMoney(config);
      case 'audit-rekey':
        return await cmdAuditRekey(config);
      case 'totp-rekey':
        return await cmdTotpRekey(config);
      case 'init':
        await cmdInit(config);
        return 0;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof DataDirLockedError || e instanceof MigrationError || e instanceof SeedRefused || e instanceof Refused || e instanceof AuditKeyMismatch || e instanceof TotpKeyMismatch || e instanceof InitRefused) {
      process.stderr.write(`${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
