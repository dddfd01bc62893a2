import net from 'node:net';
import path from 'node:path';

/**
 * Configuration comes from the environment only. Every variable is parsed and checked at start;
 * all problems are reported together, each naming the variable, the bad value and what is wanted.
 * README.md's table lists `configSpec`; a test keeps the two in step.
 */

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** PostgreSQL connection string; absent means the embedded PGlite database in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolMax: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Which proxies' X-Forwarded-For to believe: false (none), a hop count, or the proxies'
   * addresses/CIDRs. Never `true`: that believes the left-most entry, which the client writes.
   */
  trustProxy: false | number | string[];
  shutdownTimeoutMs: number;
  demoSeed: boolean;
  demoConnections: number;
  demoRandomSeed: number;
  billingSyncIntervalS: number;
  webDist: string;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  loginMaxFailures: number;
  loginMaxFailuresPerIp: number;
  lockoutMinutes: number;
  /**
   * The developer pages (outbox, demo authenticator, sandbox control). 'auto': on only for a
   * demo (the database holds demo data and nothing points outside this machine): see
   * devToolsDecision. true forces them on outside production; production refuses true.
   */
  devTools: boolean | 'auto';
  smtpUrl: string | undefined;
  smtpFrom: string;
  smsWebhookUrl: string | undefined;
  /** Key of the audit log's HMAC chain; kept outside the database. */
  auditKey: string | undefined;
  /** Key that encrypts TOTP secrets at rest (AES-256-GCM); kept outside the database. */
  totpEncryptionKey: string | undefined;
  /** Bearer token for /metrics from other machines; unset: loopback callers only. */
  metricsToken: string | undefined;
  /** A bill is flagged when its units or amount is this far below the 6-month average (percent). */
  anomalyLowPct: number;
  /** … or this far above it (percent). */
  anomalyHighPct: number;
  /** Arrears above this (paise) raise a disconnection-risk alert, unless an office sets its own. */
  riskThresholdPaise: bigint;
  /** Hour of the day (IST) the daily alerts run starts. */
  alertHourIst: number;
  /** The address people and gateways reach this portal at (callbacks, webhooks). */
  publicUrl: string | undefined;
  paymentGateway: 'sandbox' | 'razorpay';
  razorpayKeyId: string | undefined;
  razorpayKeySecret: string | undefined;
  razorpayWebhookSecret: string | undefined;
  razorpayApiUrl: string;
  razorpayCheckoutUrl: string;
  bankEcollectSecret: string | undefined;
  /** sandbox: the embedded bank (demo transfers and statements); ecollect: a real bank's e-collect calls and statements. */
  collectionBank: 'sandbox' | 'ecollect';
  /** Header names of the collection bank's CSV statement columns (unset: the common Indian layout). */
  statementCsvColumns: Record<string, string> | undefined;
  statementCsvDateFormat: 'DD/MM/YYYY' | 'DD-MM-YYYY' | 'YYYY-MM-DD' | 'DD-MMM-YYYY' | 'DD MMM YYYY';
  /** A batch waiting on the gateway this long gets a status query from the janitor. */
  paymentPendingMinutes: number;
  processRole: 'all' | 'web' | 'worker';
  jobLeaseSeconds: number;
  jobConcurrency: number;
  statementInlineBytes: number;
  maxStatementBytes: number;
  janitorIntervalS: number;
  /** Deliveries whose signature fails (gateway webhook, bank e-collect) one address may send in 10 minutes. */
  unverifiedDeliveriesPerIp: number;
  /** Bytes kept of a delivery whose signature fails (with its length and SHA-256). */
  unverifiedBodyBytes: number;
  /** Upload rows a day that look up connections the organisation has not shown to be its own. */
  tagLookupsPerDay: number;
  /** Exports, PDFs, statements and reports one user (or API key) may have in progress at once. */
  exportsPerUser: number;
  /** Worker threads that parse uploads and statements off the event loop (parse-pool.ts). */
  parseWorkers: number;
  /** A parse running longer is cut off and its worker replaced. */
  parseTimeBudgetMs: number;
  /** Heap limit of each parse worker. */
  parseWorkerMemoryMb: number;
  /** The limits of parse-limits.ts. */
  maxLineBytes: number;
  maxCellBytes: number;
  maxXlsxUncompressedBytes: number;
  maxXlsxEntries: number;
  maxStatementLines: number;
}

type Parser<T> = (raw: string) => { ok: true; value: T } | { ok: false; want: string };

interface VarSpec<K extends keyof Config> {
  env: string;
  key: K;
  doc: string;
  default?: string;
  /** Never echo the value in full: it may hold a password. */
  secret?: boolean;
  parse: Parser<Config[K]>;
}

/** 'postgres://app:s3cr#t@host/db' → 'postgres://…@host/db' (a URL too broken to parse shows only its scheme). */
function redact(raw: string): string {
  const at = raw.lastIndexOf('@');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? '';
  return at >= 0 ? `${scheme}…${raw.slice(at)}` : raw.length > 12 ? `${raw.slice(0, 12)}…` : raw;
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) return { ok: false, want: `a whole number from ${min} to ${max}` };
    const n = Number(raw.trim());
    if (n < min || n > max) return { ok: false, want: `a whole number from ${min} to ${max}` };
    return { ok: true, value: n };
  };

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return { ok: true, value: true };
  if (['0', 'false', 'no', 'off'].includes(v)) return { ok: true, value: false };
  return { ok: false, want: 'true or false' };
};

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) =>
    (values as string[]).includes(raw.trim())
      ? { ok: true, value: raw.trim() as T }
      : { ok: false, want: `one of ${values.join(', ')}` };

const text: Parser<string> = (raw) =>
  raw.trim() ? { ok: true, value: raw.trim() } : { ok: false, want: 'a non-empty value' };

const optionalUrl =
  (protocols: string[], example: string): Parser<string | undefined> =>
  (raw) => {
    const v = raw.trim();
    if (v === '') return { ok: true, value: undefined };
    try {
      if (!protocols.includes(new URL(v).protocol)) throw new Error('protocol');
      return { ok: true, value: v };
    } catch {
      return { ok: false, want: `a URL such as ${example}` };
    }
  };

const optionalSecret: Parser<string | undefined> = (raw) => {
  if (raw === '') return { ok: true, value: undefined };
  return raw.length >= 32 ? { ok: true, value: raw } : { ok: false, want: 'at least 32 characters (e.g. from openssl rand -base64 32)' };
};

const optionalText: Parser<string | undefined> = (raw) => ({ ok: true, value: raw.trim() || undefined });

const requiredUrl: Parser<string> = (raw) => {
  const r = optionalUrl(['http:', 'https:'], 'https://api.razorpay.com')(raw);
  return r.ok && r.value ? { ok: true, value: r.value.replace(/\/$/, '') } : { ok: false, want: 'a URL such as https://api.razorpay.com' };
};

const CSV_KEYS = ['valueDate', 'bookingDate', 'narrative', 'ref', 'utr', 'debit', 'credit', 'amount', 'drCr', 'balance', 'payerName'];
const csvColumns: Parser<Record<string, string> | undefined> = (raw) => {
  if (!raw.trim()) return { ok: true, value: undefined };
  const want = 'a JSON object of header names, e.g. {"valueDate":"Value Date","narrative":"Description","debit":"Debit","credit":"Credit","balance":"Balance"}';
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, want };
    const o = v as Record<string, unknown>;
    if (Object.entries(o).some(([k, x]) => !CSV_KEYS.includes(k) || typeof x !== 'string' || !x.trim())) return { ok: false, want: `${want}; keys among ${CSV_KEYS.join(', ')}` };
    if (!o.valueDate || !o.narrative || !o.balance || !((o.debit && o.credit) || o.amount)) return { ok: false, want: `${want}; valueDate, narrative, balance and either debit and credit or amount are needed` };
    return { ok: true, value: o as Record<string, string> };
  } catch {
    return { ok: false, want };
  }
};

const autoBool: Parser<boolean | 'auto'> = (raw) => (raw.trim() === 'auto' ? { ok: true, value: 'auto' } : bool(raw));

const CIDR = /^(.+)\/(\d{1,3})$/;
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/** false, a hop count, or proxy addresses/CIDRs. `true` trusts whatever the client writes: refused. */
const trustProxy: Parser<false | number | string[]> = (raw) => {
  const v = raw.trim().toLowerCase();
  const want = 'false, the number of proxies in front of the portal (e.g. 1), or their addresses or CIDRs no wider than /8 for IPv4 or /32 for IPv6 (e.g. 127.0.0.1 or 10.0.0.0/8,192.168.1.10)';
  if (['', '0', 'false', 'no', 'off'].includes(v)) return { ok: true, value: false };
  if (['true', 'yes', 'on'].includes(v)) {
    return { ok: false, want: `${want}. TRUST_PROXY=${v} would believe the left-most X-Forwarded-For address, which any client can write: it would let anyone forge their address past the login limits and into the audit log` };
  }
  if (/^\d+$/.test(v)) return Number(v) <= 10 ? { ok: true, value: Number(v) } : { ok: false, want };
  const items = v.split(',').map((x) => x.trim()).filter(Boolean);
  const valid = (x: string) => {
    if (PROXY_NAMES.includes(x) || net.isIP(x)) return true;
    const m = CIDR.exec(x);
    // A range wider than /8 (IPv4) or /32 (IPv6) is not "my proxies": it is most of the
    // internet, and would believe what clients write as surely as `true` does.
    const v4 = !!m && net.isIP(m[1]!) === 4;
    return !!m && net.isIP(m[1]!) !== 0 && Number(m[2]) <= (v4 ? 32 : 128) && Number(m[2]) >= (v4 ? 8 : 32);
  };
  return items.length && items.every(valid) ? { ok: true, value: items } : { ok: false, want };
};

const rupees: Parser<bigint> = (raw) =>
  /^\d{1,12}$/.test(raw.trim()) && BigInt(raw.trim()) > 0n
    ? { ok: true, value: BigInt(raw.trim()) * 100n }
    : { ok: false, want: 'a whole number of rupees, more than 0' };

const postgresUrl: Parser<string | undefined> = (raw) => {
  const v = raw.trim();
  if (v === '') return { ok: true, value: undefined };
  try {
    const u = new URL(v);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('protocol');
    return { ok: true, value: v };
  } catch {
    return { ok: false, want: 'a URL such as postgres://user@127.0.0.1:5432/sangrahan' };
  }
};

export const configSpec = [
  { env: 'NODE_ENV', key: 'nodeEnv', doc: 'development, production or test', default: 'development', parse: oneOf('development', 'production', 'test') },
  { env: 'HOST', key: 'host', doc: 'Address the HTTP server listens on', default: '127.0.0.1', parse: text },
  { env: 'PORT', key: 'port', doc: 'HTTP port (0 picks a free one)', default: '3000', parse: int(0, 65535) },
  { env: 'DATABASE_URL', key: 'databaseUrl', doc: 'PostgreSQL URL. Unset: embedded PGlite in DATA_DIR', default: '', secret: true, parse: postgresUrl },
  { env: 'DATA_DIR', key: 'dataDir', doc: 'Folder of the embedded database (PGlite), locked against a second process', default: './data', parse: text },
  { env: 'DB_POOL_MAX', key: 'dbPoolMax', doc: 'Connections per process to PostgreSQL', default: '10', parse: int(1, 200) },
  { env: 'LOG_LEVEL', key: 'logLevel', doc: 'fatal, error, warn, info, debug, trace or silent', default: 'info', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  { env: 'TRUST_PROXY', key: 'trustProxy', doc: 'Proxies whose X-Forwarded-For and X-Forwarded-Proto to believe: the number of proxies in front (1 for one nginx) or their addresses/CIDRs (127.0.0.1, 10.0.0.0/8). false: none. true is refused (it believes what the client writes)', default: 'false', parse: trustProxy },
  { env: 'SHUTDOWN_TIMEOUT_MS', key: 'shutdownTimeoutMs', doc: 'Longest wait for requests and jobs to finish on SIGTERM', default: '10000', parse: int(0, 600000) },
  { env: 'DEMO_SEED', key: 'demoSeed', doc: 'Load demo data into an empty embedded database on first start (never into PostgreSQL). false: a real install, started empty (then `cli init` makes the first discom administrator)', default: 'true', parse: bool },
  { env: 'DEMO_CONNECTIONS', key: 'demoConnections', doc: 'Connections in the first-start demo data', default: '20000', parse: int(100, 5000000) },
  { env: 'DEMO_RANDOM_SEED', key: 'demoRandomSeed', doc: 'Seed of the deterministic demo-data generator', default: '42', parse: int(0, 2147483647) },
  { env: 'BILLING_SYNC_INTERVAL_S', key: 'billingSyncIntervalS', doc: 'Seconds between incremental syncs from the billing system (0: off)', default: '300', parse: int(0, 86400) },
  { env: 'WEB_DIST', key: 'webDist', doc: 'Folder of the built web app', default: 'web/dist', parse: text },
  { env: 'SESSION_IDLE_MINUTES', key: 'sessionIdleMinutes', doc: 'A session ends after this long without a request', default: '30', parse: int(1, 1440) },
  { env: 'SESSION_ABSOLUTE_HOURS', key: 'sessionAbsoluteHours', doc: 'A session ends this long after login, however active', default: '12', parse: int(1, 168) },
  { env: 'LOGIN_MAX_FAILURES', key: 'loginMaxFailures', doc: 'Failed logins or codes on one account (in the lockout window) before it is locked', default: '5', parse: int(1, 100) },
  { env: 'LOGIN_MAX_FAILURES_PER_IP', key: 'loginMaxFailuresPerIp', doc: 'Failed logins from one address (in the lockout window) before it is locked out', default: '30', parse: int(1, 10000) },
  { env: 'LOCKOUT_MINUTES', key: 'lockoutMinutes', doc: 'Length of the failure window and of a lockout', default: '15', parse: int(1, 1440) },
  { env: 'DEV_TOOLS', key: 'devTools', doc: 'Developer pages (outbox of SMS and e-mail with their codes, demo authenticator, sandbox control), answering direct loopback requests only. auto: on only when the database holds demo data and none of a non-loopback HOST, SMTP_URL, SMS_WEBHOOK_URL, TRUST_PROXY, NODE_ENV=production is set. true forces them on (refused in production); false: off', default: 'auto', parse: autoBool },
  { env: 'SMTP_URL', key: 'smtpUrl', doc: 'SMTP server for e-mail (smtp:// or smtps://). Unset: e-mail stays in the outbox', default: '', secret: true, parse: optionalUrl(['smtp:', 'smtps:'], 'smtps://user:pass@mail.example.in:465') },
  { env: 'SMTP_FROM', key: 'smtpFrom', doc: 'Sender address of e-mail', default: 'Sangrahan <no-reply@sangrahan.local>', parse: text },
  { env: 'SMS_WEBHOOK_URL', key: 'smsWebhookUrl', doc: 'SMS gateway: JSON {to, text} is POSTed here. Unset: SMS stays in the outbox', default: '', secret: true, parse: optionalUrl(['http:', 'https:'], 'https://sms.example.in/send') },
  { env: 'AUDIT_KEY', key: 'auditKey', doc: 'Secret key (32+ characters) of the audit log hash chain; its id is recorded with each chain, and a different key is refused. Unset: a key file in DATA_DIR on the embedded database; unkeyed on PostgreSQL (refused in production)', default: '', secret: true, parse: optionalSecret },
  { env: 'TOTP_ENCRYPTION_KEY', key: 'totpEncryptionKey', doc: 'Secret key (32+ characters) that encrypts users’ authenticator (TOTP) secrets in the database. Unset: a key file in DATA_DIR (refused in production)', default: '', secret: true, parse: optionalSecret },
  { env: 'METRICS_TOKEN', key: 'metricsToken', doc: 'Bearer token (32+ characters) that lets other machines read /metrics. Unset: /metrics answers direct loopback requests only', default: '', secret: true, parse: optionalSecret },
  { env: 'ANOMALY_LOW_PCT', key: 'anomalyLowPct', doc: 'Flag a bill whose units or amount is this many percent below its 6-month average', default: '30', parse: int(1, 100) },
  { env: 'ANOMALY_HIGH_PCT', key: 'anomalyHighPct', doc: 'Flag a bill whose units or amount is this many percent above its 6-month average', default: '10', parse: int(1, 1000) },
  { env: 'RISK_THRESHOLD_RUPEES', key: 'riskThresholdPaise', doc: 'Arrears (₹) above which a disconnection-risk alert is sent; an office may set its own', default: '50000', parse: rupees },
  { env: 'ALERT_HOUR_IST', key: 'alertHourIst', doc: 'Hour (IST, 0–23) at which the daily due-date and disconnection-risk alerts are sent', default: '8', parse: int(0, 23) },
  { env: 'PUBLIC_URL', key: 'publicUrl', doc: 'Address of the portal as browsers and gateways reach it (checkout callbacks, sandbox webhooks). Unset: http://HOST:PORT', default: '', parse: optionalUrl(['http:', 'https:'], 'https://sangrahan.example.in') },
  { env: 'PAYMENT_GATEWAY', key: 'paymentGateway', doc: 'sandbox (embedded, speaks Razorpay’s protocol) or razorpay', default: 'sandbox', parse: oneOf('sandbox', 'razorpay') },
  { env: 'RAZORPAY_KEY_ID', key: 'razorpayKeyId', doc: 'Razorpay API key id (with PAYMENT_GATEWAY=razorpay). The sandbox uses rzp_test_sandbox', default: '', parse: optionalText },
  { env: 'RAZORPAY_KEY_SECRET', key: 'razorpayKeySecret', doc: 'Razorpay API key secret (checkout signatures). Unset with the sandbox: a random one kept in the database', default: '', secret: true, parse: optionalText },
  { env: 'RAZORPAY_WEBHOOK_SECRET', key: 'razorpayWebhookSecret', doc: 'Secret of Razorpay’s webhook signatures. Unset with the sandbox: a random one kept in the database', default: '', secret: true, parse: optionalText },
  { env: 'RAZORPAY_API_URL', key: 'razorpayApiUrl', doc: 'Razorpay’s API address (point it at the sandbox, /sandbox/razorpay, to test the adapter)', default: 'https://api.razorpay.com', parse: requiredUrl },
  { env: 'BANK_ECOLLECT_SECRET', key: 'bankEcollectSecret', doc: 'Shared secret of the collection bank’s e-collect calls (HMAC-SHA256 in X-Bank-Signature). Unset with the sandbox: the sandbox bank’s own, kept in the database', default: '', secret: true, parse: optionalText },
  { env: 'COLLECTION_BANK', key: 'collectionBank', doc: 'sandbox: the embedded sandbox bank (demo transfers to virtual accounts, statements; no real money; refused in production). ecollect: the discom’s bank, calling /api/v1/bank/ecollect/… signed with BANK_ECOLLECT_SECRET', default: 'sandbox', parse: oneOf('sandbox', 'ecollect') },
  { env: 'STATEMENT_CSV_COLUMNS', key: 'statementCsvColumns', doc: 'Header names of the collection bank’s CSV statements, as JSON (keys valueDate, bookingDate, narrative, ref, utr, debit, credit or amount with drCr, balance, payerName). Unset: Txn Date, Value Date, Description, Ref No./Cheque No., Debit, Credit, Balance', default: '', parse: csvColumns },
  { env: 'STATEMENT_CSV_DATE_FORMAT', key: 'statementCsvDateFormat', doc: 'How the CSV statements write dates (any day-first or ISO form is read)', default: 'DD/MM/YYYY', parse: oneOf('DD/MM/YYYY', 'DD-MM-YYYY', 'YYYY-MM-DD', 'DD-MMM-YYYY', 'DD MMM YYYY') },
  { env: 'RAZORPAY_CHECKOUT_URL', key: 'razorpayCheckoutUrl', doc: 'Razorpay’s hosted checkout form address', default: 'https://api.razorpay.com/v1/checkout/embedded', parse: requiredUrl },
  { env: 'PROCESS_ROLE', key: 'processRole', doc: 'all: serve the portal and run the background work; web: serve the portal only (several behind a load balancer); worker: only the background work (jobs, postings, billing sync, janitor, alerts, sandbox deliveries), answering /healthz, /readyz and /metrics', default: 'all', parse: oneOf('all', 'web', 'worker') },
  { env: 'JOB_LEASE_SECONDS', key: 'jobLeaseSeconds', doc: 'A running background job (mass tagging) is held this long between heartbeats; a job whose process died is taken up again after it', default: '60', parse: int(5, 3600) },
  { env: 'JOB_CONCURRENCY', key: 'jobConcurrency', doc: 'Background jobs (mass tagging, statement imports) one process works at once; one job per organisation (uploads) or discom (statements) at a time', default: '2', parse: int(1, 32) },
  { env: 'STATEMENT_INLINE_BYTES', key: 'statementInlineBytes', doc: 'A bank statement file up to this size is imported while the request waits (answer 200); a larger one is imported in the background (answer 202 with the import to follow)', default: '1048576', parse: int(0, 64 * 1024 * 1024) },
  { env: 'MAX_STATEMENT_BYTES', key: 'maxStatementBytes', doc: 'Largest bank statement file accepted, in bytes; a larger one answers 413 before anything is stored', default: '67108864', parse: int(1048576, 268435456) },
  { env: 'JANITOR_INTERVAL_S', key: 'janitorIntervalS', doc: 'Seconds between janitor runs (status queries of pending payments, expired challans, settlement checks)', default: '60', parse: int(1, 3600) },
  { env: 'PARSE_WORKERS', key: 'parseWorkers', doc: 'Worker threads that read uploaded sheets, bank statements and settlement reports off the event loop (each up to PARSE_WORKER_MEMORY_MB)', default: '1', parse: int(1, 16) },
  { env: 'PARSE_TIME_BUDGET_MS', key: 'parseTimeBudgetMs', doc: 'Longest time one file may take to read; past it the reading is stopped, its worker replaced, and the file refused saying so', default: '30000', parse: int(100, 600000) },
  { env: 'PARSE_WORKER_MEMORY_MB', key: 'parseWorkerMemoryMb', doc: 'Heap limit of each parse worker; a file that needs more is refused saying so, and the portal carries on', default: '512', parse: int(64, 16384) },
  { env: 'MAX_LINE_BYTES', key: 'maxLineBytes', doc: 'Longest line of a CSV upload, CSV or MT940 statement or settlement report, in bytes; a file with a longer line is refused before it is read', default: '65536', parse: int(256, 16777216) },
  { env: 'MAX_CELL_BYTES', key: 'maxCellBytes', doc: 'Longest cell of a CSV or XLSX upload or CSV statement (a quoted cell may span lines), in bytes; a file with a longer one is refused', default: '32768', parse: int(64, 16777216) },
  { env: 'MAX_XLSX_UNCOMPRESSED_BYTES', key: 'maxXlsxUncompressedBytes', doc: 'Largest size an XLSX upload may unpack to, as its zip directory declares (checked before anything is unpacked; an entry unpacking to more than it declares is refused too)', default: '104857600', parse: int(1048576, 2147483647) },
  { env: 'MAX_XLSX_ENTRIES', key: 'maxXlsxEntries', doc: 'Most files an XLSX upload’s zip may hold', default: '1000', parse: int(10, 65535) },
  { env: 'MAX_STATEMENT_LINES', key: 'maxStatementLines', doc: 'Most transaction lines in one bank statement, and rows in one settlement report; a file with more is refused', default: '200000', parse: int(100, 10000000) },
  { env: 'PAYMENT_PENDING_MINUTES', key: 'paymentPendingMinutes', doc: 'Minutes a payment may wait on the gateway before the janitor asks the gateway for its status', default: '15', parse: int(1, 1440) },
  { env: 'UNVERIFIED_DELIVERIES_PER_IP', key: 'unverifiedDeliveriesPerIp', doc: 'Gateway webhooks and bank e-collect calls whose signature fails that one address (an IPv6 /64) may send in 10 minutes; more answer 429 and are not stored. Verified deliveries are never counted', default: '30', parse: int(1, 100000) },
  { env: 'UNVERIFIED_BODY_BYTES', key: 'unverifiedBodyBytes', doc: 'Bytes kept of a webhook body whose signature fails, with its full length and SHA-256 (a verified body is kept whole)', default: '4096', parse: int(0, 262144) },
  { env: 'TAG_LOOKUPS_PER_DAY', key: 'tagLookupsPerDay', doc: 'Mass-tagging rows per organisation and IST day that look up a connection the organisation has not shown to be its own (not found, another’s, or a request without proof); rows past it fail with their own reason', default: '10000', parse: int(0, 10000000) },
  { env: 'EXPORTS_PER_USER', key: 'exportsPerUser', doc: 'Exports (CSV, XLSX), PDFs, statements of account and reports one user or API key may have in progress at once, per process; one more answers 429', default: '2', parse: int(1, 100) },
] as const satisfies readonly VarSpec<keyof Config>[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const spec of configSpec as readonly VarSpec<keyof Config>[]) {
    // An empty variable (PAYMENT_GATEWAY= in an env file) means unset: its default.
    const raw = env[spec.env]?.trim() ? env[spec.env]! : (spec.default ?? '');
    const r = spec.parse(raw);
    if (r.ok) out[spec.key] = r.value;
    else problems.push(`${spec.env}=${JSON.stringify(spec.secret ? redact(raw) : raw)} is not valid: expected ${r.want}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const cfg = { ...(out as unknown as Config), ...overrides };
  problems.push(...refusals(cfg, env));
  if (problems.length) throw new ConfigError(problems);
  cfg.dataDir = path.resolve(cfg.dataDir);
  cfg.webDist = path.resolve(cfg.webDist);
  return cfg;
}

/**
 * Settings that must not start: anything only for demos in production (sandboxes, developer
 * pages, the embedded database, unkeyed secrets), and combinations that cannot work. Each
 * message names the variable to change. docs/security.md lists them as the production checklist.
 */
function refusals(cfg: Config, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (cfg.paymentGateway === 'razorpay') {
    const missing = (['razorpayKeyId', 'razorpayKeySecret', 'razorpayWebhookSecret', 'publicUrl'] as const).filter((k) => !cfg[k]);
    if (missing.length) out.push(`PAYMENT_GATEWAY=razorpay needs ${missing.map((k) => configSpec.find((s) => s.key === k)!.env).join(', ')}`);
  }
  if (cfg.collectionBank === 'ecollect' && !cfg.bankEcollectSecret) {
    out.push('COLLECTION_BANK=ecollect needs BANK_ECOLLECT_SECRET: the shared secret the bank signs its e-collect calls with');
  }
  if (cfg.nodeEnv !== 'production') return out;
  const prod = (what: string) => out.push(`NODE_ENV=production: ${what}`);
  if (cfg.devTools === true) prod('DEV_TOOLS is on: the developer pages show one-time codes and must never run in production. Unset DEV_TOOLS');
  if (cfg.paymentGateway === 'sandbox') {
    prod(`PAYMENT_GATEWAY is ${env.PAYMENT_GATEWAY?.trim() ? 'sandbox' : 'unset (the sandbox)'}: the sandbox gateway marks batches paid with no money. Set PAYMENT_GATEWAY=razorpay with RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET and PUBLIC_URL`);
  } else if (cfg.razorpayKeyId && !cfg.razorpayKeyId.startsWith('rzp_live_')) {
    prod(`RAZORPAY_KEY_ID is not a live key (${cfg.razorpayKeyId.slice(0, 9)}…): test keys move no money. Set RAZORPAY_KEY_ID to the rzp_live_ key`);
  }
  if (cfg.collectionBank === 'sandbox') {
    prod(`COLLECTION_BANK is ${env.COLLECTION_BANK?.trim() ? 'sandbox' : 'unset (the sandbox bank)'}: the sandbox bank credits challans with no money and publishes the collection account's statement. Set COLLECTION_BANK=ecollect with BANK_ECOLLECT_SECRET`);
  }
  if (!cfg.databaseUrl) prod('DATABASE_URL is unset: the embedded database (PGlite) does not fsync and serves one process; money needs PostgreSQL. Set DATABASE_URL');
  if (!cfg.auditKey) prod('AUDIT_KEY is unset: the audit log would be hash-chained without a key, so anyone who can write the database could rewrite it. Set AUDIT_KEY (32+ characters, kept outside the database)');
  if (!cfg.totpEncryptionKey) prod('TOTP_ENCRYPTION_KEY is unset: authenticator secrets must be encrypted with a key kept outside the database. Set TOTP_ENCRYPTION_KEY (32+ characters)');
  if (!cfg.publicUrl?.startsWith('https://')) prod(`PUBLIC_URL is ${cfg.publicUrl ? `${cfg.publicUrl} (not https)` : 'unset'}: sessions and payment callbacks need TLS. Set PUBLIC_URL=https://…`);
  return out;
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '0:0:0:0:0:0:0:1']);
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return LOOPBACK_HOSTS.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * Whether the developer pages are on, and why. They show one-time codes and authenticator
 * codes, so 'auto' turns them on only for a demo: the database holds demo data (the flag the
 * demo seed writes) and nothing in the configuration reaches outside this machine or real
 * people. Even then they answer only direct loopback requests (server.ts).
 */
export function devToolsDecision(cfg: Config, demoData: boolean): { on: boolean; why: string } {
  if (cfg.nodeEnv === 'production') return { on: false, why: 'NODE_ENV=production' };
  if (cfg.devTools === true) return { on: true, why: 'DEV_TOOLS=true' };
  if (cfg.devTools === false) return { on: false, why: 'DEV_TOOLS=false' };
  const off: string[] = [];
  if (!demoData) off.push('the database holds no demo data');
  if (!isLoopbackHost(cfg.host)) off.push(`HOST=${cfg.host} is not a loopback address`);
  if (cfg.smtpUrl) off.push('SMTP_URL is set');
  if (cfg.smsWebhookUrl) off.push('SMS_WEBHOOK_URL is set');
  if (cfg.trustProxy !== false) off.push('TRUST_PROXY is set');
  return off.length ? { on: false, why: off.join('; ') } : { on: true, why: 'a demo database on a loopback address' };
}
