/** A small typed client for the server's JSON API; errors carry the server's code and messages. */

export interface Text {
  en: string;
  hi: string;
}

export interface ApiErrorBody {
  error: { code: string; message: Text; details: { path: string; problem: string; message: Text }[]; requestId: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | null,
  ) {
    super(body?.error.message.en ?? `HTTP ${status}`);
  }
  get code(): string | undefined {
    return this.body?.error.code;
  }
}

let csrfToken: string | null = null;
/** The session's CSRF token, sent with every write. */
export function setCsrfToken(t: string | null): void {
  csrfToken = t;
}

let onSessionLost: (() => void) | null = null;
export function setSessionLostHandler(fn: (() => void) | null): void {
  onSessionLost = fn;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal, extra?: Record<string, string>): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) {
    let err: ApiErrorBody | null = null;
    try {
      err = (await res.json()) as ApiErrorBody;
    } catch {
      // not JSON: a proxy or network error page
    }
    if (res.status === 401 && (err?.error.code === 'SESSION_EXPIRED' || err?.error.code === 'UNAUTHENTICATED')) onSessionLost?.();
    throw new ApiError(res.status, err);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, undefined, signal);
}

/** A write; `headers` adds request headers (such as Idempotency-Key). */
export function send<T = void>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown = {}, headers?: Record<string, string>): Promise<T> {
  return request<T>(method, path, body, undefined, headers);
}

export interface DiscomSummary {
  code: string;
  name: string;
  nameHi: string;
  state: string;
  circles: number;
  divisions: number;
  subdivisions: number;
  connections: number;
  activeConnections: number;
  connectionsDue: number;
  duesPaise: string;
  advancePaise: string;
}

export interface Overview {
  discoms: DiscomSummary[];
  organisations: { total: number; byType: Record<string, number> };
  billing: { source: string | null; lastSyncedAt: string | null };
  generatedAt: string;
}

interface Named {
  code: string;
  name: string;
  nameHi: string;
}

export interface DiscomDetail extends Named {
  state: string;
  consumerNoPattern: string;
  policy: {
    rebateDueDateBp: number;
    rebateOnlineBp: number;
    rebateMaxBp: number;
    dpsMonthlyBp: number;
    partPaymentAllowed: boolean;
    minPaymentPaise: string;
  };
  circles: (Named & { divisions: (Named & { subdivisions: Named[] })[] })[];
}

export type Role = 'org_admin' | 'maker' | 'approver' | 'viewer' | 'collection_officer' | 'accounts' | 'discom_admin' | 'auditor';
export type Stage = 'totp' | 'totp_enrol' | 'full';

export interface SessionInfo {
  authenticated: boolean;
  stage?: Stage;
  csrfToken?: string;
  user?: {
    id: string;
    loginId: string;
    name: string;
    role: Role;
    totpEnabled: boolean;
    totpRequired: boolean;
    org: { id: string; name: string; type: string } | null;
    office: { id: string; code: string; name: string } | null;
    /** Discom staff: their discom; null for the holding company's staff (see `holding`) and organisation users. */
    discom: { code: string; name: string; nameHi: string } | null;
    /** Discom staff of the holding company (BSPHCL): they act for both discoms. */
    holding: boolean;
  };
}

export interface Organisation {
  id: string;
  type: string;
  name: string;
  nameHi: string | null;
  pan: string | null;
  tan: string | null;
  gstin: string | null;
  departmentCode: string | null;
  address: string | null;
  email: string | null;
  mobile: string | null;
  status: 'pending' | 'approved' | 'rejected';
  /** The home discom, whose staff decide the registration. */
  discomCode: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  createdAt: string;
  users: number;
}

export interface User {
  id: string;
  loginId: string;
  name: string;
  email: string | null;
  mobile: string | null;
  role: Role;
  status: 'invited' | 'active' | 'disabled';
  office: { id: string; code: string; name: string } | null;
  /** Discom staff: their discom, or null with `holding` for the holding company's. */
  discom: string | null;
  holding: boolean;
  totpEnabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface Office {
  id: string;
  parentId: string | null;
  kind: 'hq' | 'district' | 'office';
  code: string;
  name: string;
  depth: number;
  users: number;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: ('read' | 'pay')[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  action: string;
  outcome: 'success' | 'failure';
  actor: string;
  orgId: string | null;
  orgName: string | null;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  chain: string;
  seq: string;
}

export interface LookupConnection {
  connectionId: string;
  discom: string;
  consumerNo: string;
  name: string;
  address: string;
  category: string;
  supplyType: string;
  mobile: string | null;
  tag: 'yours' | 'requested_by_you' | 'another_organisation' | null;
  proofs: ('bill_number' | 'bill_amount' | 'otp')[];
}

export interface TagJob {
  id: string;
  kind: 'tag' | 'untag';
  fileName: string;
  status: 'uploaded' | 'validating' | 'validated' | 'committing' | 'committed' | 'failed' | 'cancelled';
  rowsTotal: number | null;
  rowsDone: number;
  counts: Record<string, number>;
  error: string | null;
  createdAt: string;
  committedAt: string | null;
  /** The organisation's daily limit of rows about connections it has not shown to be its own. */
  lookups: { charged: number; refused: number; perDay: number; remainingToday: number };
}

/** GET /api/v1/org/tag-jobs: recent uploads, and what is left of today's lookup limit. */
export interface TagJobList {
  jobs: TagJob[];
  lookups: { perDay: number; usedToday: number; remainingToday: number };
}

export interface TagJobRow {
  rowNo: number;
  consumer: string | null;
  discom: string | null;
  office: string | null;
  outcome: string;
  problem: string | null;
  message: Text | null;
}

export interface TaggedConnection {
  tagId: string;
  connectionId: string;
  discom: string;
  consumerNo: string;
  name: string;
  category: string;
  status: 'active' | 'requested';
  method: string;
  office: { id: string; code: string; name: string } | null;
  balancePaise: string;
  taggedAt: string;
}

/** Sends a file as the request body (uploads). */
export async function sendFile<T>(path: string, file: File): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': file.type || 'application/octet-stream' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method: 'POST', headers, body: file, credentials: 'same-origin' });
  if (!res.ok) {
    let err: ApiErrorBody | null = null;
    try {
      err = (await res.json()) as ApiErrorBody;
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, err);
  }
  return (await res.json()) as T;
}

// ---- payments ---------------------------------------------------------------------------------

export type BatchStatus = 'pending_approval' | 'ready' | 'payment_pending' | 'unknown' | 'paid' | 'rejected' | 'cancelled' | 'expired';
/** The history's status filter ('expired' is not among the statuses the list endpoint takes yet). */
export const BATCH_STATUSES: readonly BatchStatus[] = ['pending_approval', 'ready', 'payment_pending', 'unknown', 'paid', 'rejected', 'cancelled'];

/** What a payment batch will be (POST /api/v1/org/payments/quote). Money is paise. */
export interface Quote {
  itemCount: number;
  totalPaise: string;
  outstandingPaise: string;
  rebatePaise: string;
  dpsAvoidedPaise: string;
  anomalyCount: number;
  skipped: number;
  /** Rows of a selection an open payment holds: left out; and those payments' references the caller sees. */
  held: number;
  heldBatches: string[];
  /** The amounts per discom: more than one cannot be paid by RTGS/NEFT (a challan is for one discom). */
  discoms: { code: string; itemCount: number; totalPaise: string }[];
  requiresApproval: boolean;
  approvalThresholdPaise: string | null;
  rowsShown: number;
  rows: {
    connectionId: string;
    discom: string;
    consumerNo: string;
    billMonth: string | null;
    dueDate: string | null;
    outstandingPaise: string;
    netNowPaise: string;
    amountPaise: string;
    rebatePaise: string;
    dpsAvoidedPaise: string;
    flags: string[];
  }[];
}

export interface Batch {
  id: string;
  reference: string;
  status: BatchStatus;
  mode: 'online' | 'rtgs_neft';
  itemCount: number;
  totalPaise: string;
  outstandingPaise: string;
  rebatePaise: string;
  dpsAvoidedPaise: string;
  anomalyCount: number;
  budgetHead: string | null;
  sanctionRef: string | null;
  requiresApproval: boolean;
  createdBy: string;
  createdByUserId: string | null;
  createdAt: string;
  statusChangedAt: string;
  /** The nearest common office of the batch's connections: its users and those above see the batch. */
  office: { id: string; code: string; name: string } | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  paidPaise: string;
  settledAt: string | null;
  /** Once paid: part_paid when less money came than the batch's total. */
  paidState: 'paid' | 'part_paid' | null;
  /** Once paid: the rebate actually credited, and what the batch's connections still owe of what it meant to clear. */
  rebateCreditedPaise: string | null;
  stillDuePaise: string | null;
}

export interface BatchDetail extends Batch {
  order: { orderId: string; gateway: string; createdAt: string; lastCheckedAt: string | null } | null;
  payments: { id: string; gatewayPaymentId: string; amountPaise: string; method: string | null; status: string; capturedAt: string | null; confirmedBy: string; error: string | null; createdAt: string }[];
  postings: { pending: number; acknowledged: number; rejected: number };
  receipts: number;
  /** The discoms of the batch's connections: a challan needs exactly one. */
  discoms: string[];
  exceptions: { reason: string; amountPaise: string; status: string }[];
}

export interface BatchItem {
  connectionId: string;
  consumerNo: string;
  billMonth: string | null;
  dueDate: string | null;
  outstandingPaise: string;
  amountPaise: string;
  rebatePaise: string;
  flags: string[];
  receipt: { id: string; receiptNo: string; amountPaise: string; advancePaise: string; rebatePaise: string; balanceAfterPaise: string } | null;
  posting: { postingId: string; status: string; billingReceiptNo: string | null; lastError: string | null } | null;
}

export interface Checkout {
  orderId: string;
  action: string;
  fields: Record<string, string>;
}

/** Posts a real HTML form (the gateway's hosted checkout takes a browser form post, not fetch). */
export function postForm(action: string, fields: Record<string, string>): void {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  form.hidden = true;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}

// ---- RTGS/NEFT challans and reconciliation -------------------------------------------------------

export type ChallanStatus = 'active' | 'paid' | 'expired' | 'cancelled';
export type CreditStatus = 'received' | 'applied' | 'held' | 'refund';

export interface ChallanCredit {
  utr: string | null;
  amountPaise: string;
  creditedAt: string;
  mode: string | null;
  status: CreditStatus;
  sources: string[];
  exception: { id: string; reason: string; status: 'open' | 'resolved'; resolution: string | null } | null;
}

/** A batch's RTGS/NEFT challan: its own virtual account, the exact amount and a deadline. */
export interface Challan {
  id: string;
  batchId: string;
  batchReference: string;
  organisation: string;
  discomCode: string;
  vaNumber: string;
  ifsc: string;
  bankName: string;
  beneficiaryName: string;
  amountPaise: string;
  validUntil: string;
  status: ChallanStatus;
  extensions: number;
  createdAt: string;
  paidAt: string | null;
  itemCount: number;
  credits: ChallanCredit[];
}

export type ReconAction = 'part_payment' | 'advance' | 'extend' | 'assign' | 'refund' | 'settled' | 'acknowledge';

export interface ReconException {
  id: string;
  reason: string;
  status: 'open' | 'resolved';
  amountPaise: string;
  detail: string | null;
  createdAt: string;
  utr: string | null;
  vaNumber: string | null;
  creditedAt: string | null;
  payerName: string | null;
  sources: string[];
  batchId: string | null;
  batchReference: string | null;
  organisation: string | null;
  gatewayPaymentId: string | null;
  actions: ReconAction[];
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
}

export interface ReconExceptions {
  counts: Record<string, number>;
  items: ReconException[];
  next: string | null;
}

export interface ResolveResult {
  exceptionId: string;
  outcome: 'applied' | 'held' | 'refund' | 'settled';
  newExceptionId: string | null;
}

export interface StatementCounts {
  confirmed: number;
  settlements: number;
  newCredits: number;
  waiting: number;
  exceptions: number;
  notApplicable: number;
  contradictions: number;
  known: number;
  review: number;
}

export interface StatementImport {
  statements: { id: string | null; account: string; statementRef: string; format: string; lines: number; duplicate: boolean; counts: StatementCounts }[];
  applied: number;
  held: number;
  waiting: number;
}

/** A large statement, imported in the background (202): followed until it is done or failed. */
export interface StatementImportQueued {
  importId: string;
  status: string;
  url: string;
}

export interface StatementImportState {
  importId: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string | null;
  result: StatementImport | null;
  error: ApiErrorBody['error'] | null;
}

/** Follows a background import every second until it ends; the result, or its error as an ApiError. */
export async function followStatementImport(q: StatementImportQueued, onState: (s: StatementImportState) => void): Promise<StatementImport> {
  for (;;) {
    const s = await getJson<StatementImportState>(q.url);
    onState(s);
    if (s.status === 'done' && s.result) return s.result;
    if (s.status === 'failed') throw new ApiError(422, { error: { ...(s.error ?? { code: 'INTERNAL', message: { en: 'The import failed.', hi: 'आयात विफल रहा।' }, details: [] }), requestId: '' } });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface BankStatement {
  id: string;
  account: string;
  statementRef: string;
  format: string;
  currency: string;
  openingPaise: string;
  closingPaise: string;
  creditsPaise: string;
  debitsPaise: string;
  openingDate: string | null;
  closingDate: string | null;
  lineCount: number;
  fileName: string;
  importedAt: string;
  lines: Record<string, number>;
  review: number;
}

export interface StatementLine {
  lineNo: number;
  valueDate: string;
  direction: 'credit' | 'debit';
  amountPaise: string;
  currency: string;
  utr: string | null;
  vaNumber: string | null;
  narrative: string | null;
  status: 'new' | 'matched' | 'exception' | 'not_applicable';
  reason: string | null;
  creditStatus: string | null;
  settlementId: string | null;
  review: 'impossible_date' | null;
  dateAsSent: string | null;
}

/**
 * Sends a file as the request body with upload progress (fetch cannot report it): `onProgress`
 * gets the fraction sent, 0..1, or null when the browser cannot tell the size. The body is sent
 * as `contentType` (the server reads uploads as raw bytes whatever it says).
 */
export function sendFileWithProgress<T>(path: string, file: File, onProgress: (fraction: number | null) => void, contentType = 'application/octet-stream'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', contentType);
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.upload.onprogress = (e) => onProgress(e.lengthComputable && e.total > 0 ? e.loaded / e.total : null);
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: a proxy or network error page
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else {
        const err = body as ApiErrorBody | null;
        if (xhr.status === 401 && (err?.error.code === 'SESSION_EXPIRED' || err?.error.code === 'UNAUTHENTICATED')) onSessionLost?.();
        reject(new ApiError(xhr.status, err && typeof err === 'object' && 'error' in err ? err : null));
      }
    };
    xhr.send(file);
  });
}

// ---- reports: collections dashboard, daily reconciliation, gateway settlements, three-way view ---

export type OrgType = 'state_department' | 'central_psu' | 'state_psu' | 'private' | 'large_consumer';
export type CollectionMode = 'online' | 'rtgs_neft';

/** GET /api/v1/discom/collections: money collected in an IST date range, and what waits. */
export interface Collections {
  from: string;
  to: string;
  /** The discom shown; null: both (the holding company's view). */
  discom: string | null;
  totals: { count: number; amountPaise: string };
  byDay: { day: string; online: string; rtgsNeft: string }[];
  byMode: { mode: CollectionMode; count: number; amountPaise: string }[];
  byOrgType: { type: OrgType; count: number; amountPaise: string }[];
  byDivision: { discom: string; circle: string; division: string; amountPaise: string; connections: number }[];
  topDues: { orgId: string; organisation: string; type: OrgType; connections: number; outstandingPaise: string }[];
  pendingTagRequests: number;
  postings: { pending: number; retrying: number; rejected: number };
  openExceptions: { count: number; amountPaise: string };
}

type Counted = { count: number; amountPaise: string };

/** GET /api/v1/discom/recon/daily: one IST day's reconciliation. */
export interface DailyReport {
  day: string;
  /** The discom shown; null: both (the holding company's view). */
  discom: string | null;
  received: (Counted & { mode: string })[];
  credits: (Counted & { status: string })[];
  /** Gateway settlements pay both discoms at once: the holding company's view only (null otherwise). */
  settlements: { count: number; amountPaise: string; feesPaise: string; inStatement: number } | null;
  statementLines: (Counted & { status: string })[];
  exceptionsOpened: (Counted & { reason: string })[];
  exceptionsResolved: (Counted & { resolution: string })[];
  exceptionsOpen: (Counted & { reason: string })[];
  postings: (Counted & { status: string })[];
  openItems: { id: string; reason: string; amountPaise: string; utr: string | null; reference: string | null; organisation: string | null; createdAt: string; detail: string | null }[];
}

/** POST /api/v1/discom/recon/settlements: what importing the gateway's settlement report did. */
export interface SettlementImport {
  duplicate: boolean;
  rows: number;
  payments: number;
  matched: number;
  unknown: string[];
  settlements: { id: string; utr: string | null; amountPaise: string; feesPaise: string; taxPaise: string; payments: number; new: boolean; bankMatched: boolean }[];
}

export interface GatewaySettlement {
  id: string;
  utr: string | null;
  amountPaise: string;
  feesPaise: string;
  taxPaise: string;
  payments: number;
  settledAt: string | null;
  inStatement: boolean;
}

/** Where a batch's money is: received ↔ in the discom's bank ↔ posted to billing. */
export interface ThreeWay {
  batch: { id: string; reference: string; organisation: string; status: string; mode: string; totalPaise: string; paidPaise: string };
  received: { source: 'gateway' | 'bank'; reference: string; amountPaise: string; at: string | null; confirmedBy: string }[];
  banked: { kind: 'settlement' | 'statement'; reference: string; utr: string | null; amountPaise: string; feesPaise: string | null; inStatement: boolean }[];
  posted: { postings: number; acknowledged: number; pending: number; rejected: number; amountPaise: string; acknowledgedPaise: string };
  legs: { received: boolean; banked: boolean; posted: boolean };
}
