import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables in migrations/. Keep in step with the SQL. */

type Id = ColumnType<bigint, bigint | number | undefined, never>;
type Paise = ColumnType<bigint, bigint | number | string, bigint | number | string>;
type Big = ColumnType<bigint, bigint | number | string, bigint | number | string>;
/** date columns come back as 'YYYY-MM-DD'. */
type DateStr = ColumnType<string, string, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface DiscomsTable {
  id: Id;
  code: string;
  name: string;
  name_hi: string;
  state: string;
  consumer_no_pattern: Generated<string>;
  rebate_due_date_bp: Generated<number>;
  rebate_online_bp: Generated<number>;
  rebate_max_bp: Generated<number>;
  dps_monthly_bp: Generated<number>;
  part_payment_allowed: Generated<boolean>;
  min_payment_paise: ColumnType<bigint, bigint | number | undefined, bigint | number>;
  created_at: Generated<Date>;
}

export interface CirclesTable {
  id: Id;
  discom_id: Big;
  code: string;
  name: string;
  name_hi: string;
}

export interface DivisionsTable {
  id: Id;
  discom_id: Big;
  circle_id: Big;
  code: string;
  name: string;
  name_hi: string;
}

export interface SubdivisionsTable {
  id: Id;
  discom_id: Big;
  division_id: Big;
  code: string;
  name: string;
  name_hi: string;
}

export interface TariffCategoriesTable {
  code: string;
  name: string;
  name_hi: string;
  supply_type: 'LT' | 'HT';
}

export interface ConnectionsTable {
  id: Id;
  discom_id: Big;
  consumer_no: string;
  subdivision_id: Big;
  name: string;
  address: string;
  category: string;
  supply_type: 'LT' | 'HT';
  sanctioned_load_va: number;
  meter_no: string | null;
  registered_mobile: string | null;
  owner_pan: string | null;
  owner_dept_code: string | null;
  status: 'active' | 'disconnected' | 'closed';
  balance_paise: Paise;
  in_flight_paise: Generated<bigint>;
  source_updated_at: Timestamp;
  synced_at: Generated<Date>;
}

export interface BillsTable {
  id: Id;
  discom_id: Big;
  connection_id: Big;
  bill_no: string;
  bill_month: DateStr;
  bill_date: DateStr;
  due_date: DateStr;
  prev_reading: number | null;
  curr_reading: number | null;
  units: number;
  bill_basis: 'actual' | 'average' | 'provisional';
  energy_charge_paise: Paise;
  fixed_charge_paise: Paise;
  fuel_surcharge_paise: Paise;
  electricity_duty_paise: Paise;
  meter_rent_paise: Paise;
  current_demand_paise: Paise;
  arrears_paise: Paise;
  dps_paise: Paise;
  rebate_paise: Paise;
  advance_credit_paise: Paise;
  net_payable_paise: Paise;
  payable_after_due_paise: Paise;
  last_payment_paise: ColumnType<bigint | null, bigint | number | null, bigint | number | null>;
  last_payment_date: ColumnType<string | null, string | null, string | null>;
  status: 'unpaid' | 'part_paid' | 'paid';
  source_updated_at: Timestamp;
  synced_at: Generated<Date>;
}

export interface BillingSyncStateTable {
  source: string;
  watermark: Date | null;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_error: string | null;
  connections_synced: Generated<bigint>;
  bills_synced: Generated<bigint>;
}

export interface BillingSyncRejectsTable {
  id: Id;
  source: string;
  kind: 'connections' | 'bills';
  key: string;
  problem: string;
  detail: string;
  payload: unknown;
  first_seen_at: Generated<Date>;
  last_seen_at: Generated<Date>;
}

export type OrganisationType = 'state_department' | 'central_psu' | 'state_psu' | 'private' | 'large_consumer';

export interface OrganisationsTable {
  id: Id;
  type: OrganisationType;
  name: string;
  name_hi: string | null;
  pan: string | null;
  tan: string | null;
  gstin: string | null;
  department_code: string | null;
  address: string | null;
  email: string | null;
  mobile: string | null;
  status: Generated<'pending' | 'approved' | 'rejected'>;
  created_at: Generated<Date>;
  decision_reason: string | null;
  decided_by: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  approval_threshold_paise: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  /** The home discom, whose staff decide the registration (0012). NULL only if no discom existed. */
  discom_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
}

export type OrgRole = 'org_admin' | 'maker' | 'approver' | 'viewer';
export type DiscomRole = 'collection_officer' | 'accounts' | 'discom_admin' | 'auditor';
export type Role = OrgRole | DiscomRole;

export interface OfficesTable {
  id: Id;
  org_id: Big;
  parent_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  kind: 'hq' | 'district' | 'office';
  code: string;
  name: string;
  path: string;
  created_at: Generated<Date>;
}

export interface UsersTable {
  id: Id;
  org_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  login_id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  role: Role;
  office_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  status: Generated<'invited' | 'active' | 'disabled'>;
  password_hash: string | null;
  password_changed_at: Date | null;
  totp_secret: string | null;
  totp_pending_secret: string | null;
  totp_enabled_at: Date | null;
  totp_last_step: ColumnType<bigint | null, bigint | number | null | undefined, bigint | number | null>;
  created_at: Generated<Date>;
  created_by: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  last_login_at: Date | null;
  /** Discom staff: their discom, or `holding` (the holding company, both discoms); exactly one (0012). */
  discom_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  holding: Generated<boolean>;
}

export interface SessionsTable {
  id: string;
  user_id: Big;
  csrf_token: string;
  stage: 'totp' | 'totp_enrol' | 'full';
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
}

export interface ThrottlesTable {
  bucket: string;
  window_started_at: Date;
  failures: number;
  locked_until: Date | null;
}

export interface OneTimeCodesTable {
  id: Id;
  user_id: Big;
  purpose: 'password_reset' | 'invitation';
  code_hash: string;
  expires_at: Date;
  attempts: Generated<number>;
  used_at: Date | null;
  created_at: Generated<Date>;
}

export interface NotificationsTable {
  id: Id;
  channel: 'sms' | 'email';
  recipient: string;
  subject: string | null;
  body: string;
  purpose: string;
  org_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  user_id: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  status: Generated<'outbox' | 'sent' | 'failed'>;
  error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
}

export interface ApiKeysTable {
  id: Id;
  org_id: Big;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: ('read' | 'pay')[];
  created_by: Big;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
}

export interface AuditChainsTable {
  chain: Big;
  last_seq: Big;
  last_hash: string;
  /** Id of the key the chain is hashed with ('none': unkeyed); null until first checked. */
  key_id: string | null;
}

export interface InstallationTable {
  id: Generated<boolean>;
  demo_data: Generated<boolean>;
  demo_seeded_at: Date | null;
  created_at: Generated<Date>;
}

export interface AuditLogTable {
  id: Id;
  chain: Big;
  seq: Big;
  at: Date;
  action: string;
  outcome: 'success' | 'failure';
  actor_user_id: ColumnType<bigint | null, bigint | null | undefined, never>;
  actor_api_key_id: ColumnType<bigint | null, bigint | null | undefined, never>;
  actor_label: string;
  org_id: ColumnType<bigint | null, bigint | null | undefined, never>;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  prev_hash: string;
  hash: string;
  /** The discom the entry concerns (0012); in the hash only when not NULL. */
  discom_id: ColumnType<bigint | null, bigint | null | undefined, never>;
}

export interface JobsTable {
  id: Id;
  kind: string;
  payload: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  run_at: ColumnType<Date, Date | undefined, Date>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
  group_key: string | null;
}

export interface StatementImportsTable {
  id: Id;
  requested_by: Big;
  discom_id: NullableId;
  file_name: string;
  file_sha256: string;
  file_bytes: Big;
  data: Buffer | null;
  format: string | null;
  csv_layout: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  attempt: Generated<number>;
  stage: string | null;
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  error: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

type NullableBig = ColumnType<bigint | null, bigint | null | undefined, bigint | null>;

export type TagStatus = 'requested' | 'active' | 'rejected' | 'untagged' | 'cancelled';
export type TagMethod = 'bill_number' | 'bill_amount' | 'otp' | 'owner_match' | 'discom_approval' | 'transfer';

export interface TagsTable {
  id: Id;
  org_id: Big;
  connection_id: Big;
  office_id: NullableBig;
  status: TagStatus;
  method: TagMethod;
  source: 'single' | 'upload' | 'transfer';
  transfer_from_tag_id: NullableBig;
  job_id: NullableBig;
  requested_by: NullableBig;
  requested_at: Generated<Date>;
  request_reason: string | null;
  decided_by: NullableBig;
  decided_at: Date | null;
  decision_reason: string | null;
  activated_at: Date | null;
  ended_by: NullableBig;
  ended_at: Date | null;
  end_reason: string | null;
}

export interface ConnectionOtpsTable {
  id: Id;
  connection_id: Big;
  user_id: Big;
  code_hash: string;
  expires_at: Date;
  attempts: Generated<number>;
  used_at: Date | null;
  created_at: Generated<Date>;
}

export type TagJobStatus = 'uploaded' | 'validating' | 'validated' | 'committing' | 'committed' | 'failed' | 'cancelled';

export interface TagJobsTable {
  id: Id;
  org_id: Big;
  kind: 'tag' | 'untag';
  file_name: string;
  file_sha256: string;
  file_size: number;
  file_format: string | null;
  encoding: string | null;
  status: TagJobStatus;
  rows_total: number | null;
  rows_done: Generated<number>;
  counts: ColumnType<Record<string, number>, string | undefined, string>;
  untag_reason: string | null;
  default_office_id: NullableBig;
  /** The uploader's office (the head office for an uploader of the whole organisation): users at or above it see the upload. */
  office_id: NullableBig;
  error: string | null;
  created_by: Big;
  created_at: Generated<Date>;
  validated_at: Date | null;
  committed_by: NullableBig;
  committed_at: Date | null;
  /** Rows charged to the organisation's daily lookup limit, and rows it refused (migration 0018). */
  lookups_charged: Generated<number>;
  lookups_refused: Generated<number>;
}

export interface TagLookupDaysTable {
  org_id: Big;
  day: DateStr;
  used: number;
}

export interface TagJobFilesTable {
  job_id: Big;
  content: Buffer;
}

export type RowOutcome = 'activate' | 'request' | 'untag' | 'noop' | 'conflict' | 'error';

export interface TagJobRowsTable {
  job_id: Big;
  row_no: number;
  consumer_raw: string | null;
  discom_raw: string | null;
  office_raw: string | null;
  proof_raw: string | null;
  consumer_no: string | null;
  connection_id: NullableBig;
  office_id: NullableBig;
  outcome: RowOutcome | null;
  method: string | null;
  problem: string | null;
  detail: string | null;
}

export interface ConnectionDuesTable {
  connection_id: Big;
  discom_id: Big;
  division_id: Big;
  subdivision_id: Big;
  category: string;
  consumer_no: string;
  name: string;
  conn_status: string;
  org_id: NullableBig;
  office_id: NullableBig;
  balance_paise: Paise;
  bill_id: NullableBig;
  bill_month: DateStr | null;
  due_date: DateStr | null;
  due_key: DateStr;
  bill_status: string | null;
  net_payable_paise: Paise;
  payable_after_due_paise: Paise;
  rebate_paise: Paise;
  dps_paise: Paise;
  current_demand_paise: Paise;
  units: number;
  bill_basis: string | null;
  /** numeric: comes back as a string */
  avg_units: string | null;
  avg_demand_paise: string | null;
  reading_break: boolean;
  hist_months: string[] | null;
  hist_billed_paise: string[] | null;
  hist_units: string[] | null;
  hist_paid: boolean[] | null;
  refreshed_at: Timestamp;
}

export interface DuesOrgMonthsTable {
  org_id: Big;
  month: string;
  bills: Big;
  billed_paise: Big;
  units: Big;
  paid_bills: Big;
}

export interface DuesVersionsTable {
  org_id: Big;
  version: Big;
}

export interface DuesSummaryCacheTable {
  org_id: Big;
  scope: string;
  day: DateStr;
  version: Big;
  settings: string;
  body: ColumnType<unknown, string, string>;
  computed_at: Generated<Date>;
}

export interface DuesSelectionsTable {
  id: Id;
  org_id: Big;
  created_by: Big;
  filters: ColumnType<unknown, string, string>;
  /** The creator's office (the head office for a creator of the whole organisation): users at or above it may use the selection. */
  office_id: NullableBig;
  count: number;
  outstanding_paise: Paise;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface DuesSelectionItemsTable {
  selection_id: Big;
  connection_id: Big;
}

export interface AlertPreferencesTable {
  office_id: Big;
  org_id: Big;
  due_reminders: Generated<boolean>;
  reminder_days: Generated<number>;
  disconnection_alerts: Generated<boolean>;
  risk_threshold_paise: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  by_email: Generated<boolean>;
  by_sms: Generated<boolean>;
  updated_by: NullableBig;
  updated_at: Generated<Date>;
}

export interface AlertsSentTable {
  bill_id: Big;
  reason: 'due_reminder' | 'disconnection_risk';
  office_id: Big;
  connection_id: Big;
  org_id: Big;
  run_day: DateStr;
  message_count: number;
  sent_at: Generated<Date>;
}

export interface AlertRunsTable {
  day: DateStr;
  started_at: Generated<Date>;
  finished_at: Date | null;
  alerts: number | null;
  messages: number | null;
}

type NullableTime = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;
type NullableId = ColumnType<bigint | null, bigint | number | null | undefined, bigint | number | null>;

export type BatchStatus = 'pending_approval' | 'ready' | 'payment_pending' | 'unknown' | 'paid' | 'rejected' | 'cancelled' | 'expired';
export type PostingStatus = 'pending' | 'acknowledged' | 'rejected';

export interface StateTransitionsTable {
  machine: string;
  from_state: string;
  to_state: string;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response: ColumnType<unknown, string | null, string | null>;
  created_at: Generated<Date>;
}

export interface PaymentBatchesTable {
  id: Id;
  org_id: Big;
  reference: string;
  status: BatchStatus;
  mode: Generated<'online' | 'rtgs_neft'>;
  /** The nearest common office of the batch's connections (NULL: the head office): users at or above it see the batch. */
  office_id: NullableId;
  created_by: NullableId;
  created_by_key: NullableId;
  created_by_label: string;
  item_count: number;
  total_paise: Paise;
  outstanding_paise: Paise;
  rebate_paise: Generated<bigint>;
  dps_avoided_paise: Generated<bigint>;
  anomaly_count: Generated<number>;
  budget_head: NullableText;
  sanction_ref: NullableText;
  requires_approval: boolean;
  decided_by: NullableId;
  decided_at: NullableTime;
  decision_reason: NullableText;
  paid_paise: Generated<bigint>;
  /** Written by settlement: the rebate credited, and what the batch's connections still owe of what it meant to clear. */
  rebate_credited_paise: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  still_due_paise: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  settled_at: NullableTime;
  status_changed_at: Generated<Date>;
  created_at: Generated<Date>;
}

export interface PaymentBatchItemsTable {
  batch_id: Big;
  connection_id: Big;
  org_id: Big;
  discom_id: Big;
  consumer_no: string;
  bill_id: NullableId;
  bill_month: string | null;
  due_date: string | null;
  outstanding_paise: Paise;
  rebate_paise: Generated<bigint>;
  dps_avoided_paise: Generated<bigint>;
  amount_paise: Paise;
  flags: Generated<string[]>;
  open: Generated<boolean>;
}

export interface PaymentAttemptsTable {
  id: Id;
  batch_id: Big;
  org_id: Big;
  gateway: string;
  order_id: string;
  receipt: string;
  amount_paise: Paise;
  status: Generated<'created' | 'paid'>;
  created_at: Generated<Date>;
  last_checked_at: NullableTime;
}

export interface PaymentsTable {
  id: Id;
  org_id: Big;
  batch_id: Big;
  attempt_id: NullableId;
  challan_id: NullableId;
  /** An unmatched capture the accounts team assigned to the batch. */
  capture_id: NullableId;
  gateway: string;
  gateway_payment_id: string;
  amount_paise: Paise;
  method: NullableText;
  status: 'captured' | 'failed';
  captured_at: NullableTime;
  error_code: NullableText;
  error_description: NullableText;
  confirmed_by: PaymentSource;
  settled_at: NullableTime;
  fee_paise: ColumnType<bigint | null, bigint | number | string | null | undefined, bigint | number | string | null>;
  tax_paise: ColumnType<bigint | null, bigint | number | string | null | undefined, bigint | number | string | null>;
  settlement_id: NullableText;
  created_at: Generated<Date>;
}

export type PaymentSource = 'webhook' | 'callback' | 'status_query' | 'va_notification' | 'ecollect' | 'statement' | 'resolution';

export interface AllocationsTable {
  id: Id;
  payment_id: Big;
  batch_id: Big;
  org_id: Big;
  connection_id: NullableId;
  kind: 'dues' | 'advance' | 'suspense';
  amount_paise: Paise;
  created_at: Generated<Date>;
}

export interface ReceiptSeriesTable {
  discom_id: Big;
  fy: string;
  last_no: Generated<bigint>;
}

export interface ReceiptsTable {
  id: Id;
  discom_id: Big;
  fy: string;
  seq: Big;
  receipt_no: string;
  payment_id: Big;
  batch_id: Big;
  org_id: Big;
  connection_id: Big;
  consumer_no: string;
  bill_id: NullableId;
  amount_paise: Paise;
  advance_paise: Generated<bigint>;
  rebate_paise: Generated<bigint>;
  balance_before_paise: Paise;
  balance_after_paise: Paise;
  issued_at: Timestamp;
}

export interface LedgerTransactionsTable {
  id: Id;
  kind: string;
  org_id: NullableId;
  payment_id: NullableId;
  batch_id: NullableId;
  memo: NullableText;
  credit_id: NullableId;
  capture_id: NullableId;
  at: Generated<Date>;
}

export type LedgerAccount = 'gateway_clearing' | 'bank' | 'consumer_receivable' | 'rebate_expense' | 'suspense' | 'fees' | 'refunds_payable';

export interface LedgerEntriesTable {
  id: Id;
  txn_id: Big;
  account: LedgerAccount;
  connection_id: NullableId;
  amount_paise: Paise;
}

export interface PostingsTable {
  id: Id;
  payment_id: Big;
  receipt_id: Big;
  batch_id: Big;
  org_id: Big;
  connection_id: Big;
  discom_id: Big;
  consumer_no: string;
  kind: 'payment' | 'rebate';
  amount_paise: Paise;
  paid_at: Timestamp;
  reference: string;
  status: Generated<PostingStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: NullableText;
  billing_receipt_no: NullableText;
  applied_at: NullableTime;
  acknowledged_at: NullableTime;
  reflected: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface WebhookEventsTable {
  id: Id;
  provider: string;
  event_id: NullableText;
  event_type: NullableText;
  order_id: NullableText;
  gateway_payment_id: NullableText;
  /** The whole body when verified; its first UNVERIFIED_BODY_BYTES otherwise. */
  raw_body: Buffer;
  body_bytes: number | null;
  body_sha256: NullableText;
  headers: ColumnType<unknown, string, string>;
  verified: boolean;
  status: Generated<'received' | 'processed' | 'ignored' | 'failed'>;
  outcome: NullableText;
  received_at: Generated<Date>;
  processed_at: NullableTime;
  duplicates: Generated<number>;
}

export interface PaymentExceptionsTable {
  id: Id;
  payment_id: Big;
  org_id: Big;
  reason: 'batch_closed' | 'duplicate_payment' | 'amount_mismatch';
  amount_paise: Paise;
  status: Generated<'open' | 'refunded' | 'resolved'>;
  created_at: Generated<Date>;
}

// ---- reconciliation (0010) ----------------------------------------------------------------

export interface CollectionAccountsTable {
  discom_id: Big;
  bank_name: string;
  ifsc: string;
  account_no: string;
  beneficiary_name: string;
  va_prefix: string;
  challan_validity_hours: Generated<number>;
  settlement_days: Generated<number>;
}

export type ChallanStatus = 'active' | 'paid' | 'expired' | 'cancelled';

export interface ChallansTable {
  id: Id;
  batch_id: Big;
  org_id: Big;
  discom_id: Big;
  va_number: string;
  ifsc: string;
  bank_name: string;
  beneficiary_name: string;
  amount_paise: Paise;
  valid_until: Timestamp;
  status: Generated<ChallanStatus>;
  extensions: Generated<number>;
  created_by: NullableId;
  created_at: Generated<Date>;
  paid_at: NullableTime;
}

export type CreditSource = 'va_notification' | 'ecollect' | 'statement';
export type CreditStatus = 'received' | 'applied' | 'held' | 'refund' | 'settlement';

export interface BankCreditsTable {
  id: Id;
  utr: NullableText;
  discom_id: NullableId;
  va_number: NullableText;
  amount_paise: Paise;
  mode: NullableText;
  credited_at: Timestamp;
  payer_name: NullableText;
  payer_account: NullableText;
  payer_ifsc: NullableText;
  narrative: NullableText;
  source: CreditSource;
  sources: ColumnType<string[], string[], string[]>;
  external_id: NullableText;
  status: CreditStatus;
  challan_id: NullableId;
  payment_id: NullableId;
  match_rule: NullableText;
  statement_line_id: NullableId;
  created_at: Generated<Date>;
}

export interface EcollectValidationsTable {
  id: Id;
  utr: string;
  va_number: string;
  amount_paise: Paise;
  decision: 'accept' | 'reject';
  reason: NullableText;
  asked_at: Generated<Date>;
}

export interface BankStatementsTable {
  id: Id;
  file_sha256: string;
  file_name: string;
  format: 'mt940' | 'camt053' | 'csv';
  account: string;
  statement_ref: string;
  currency: string;
  opening_paise: Big;
  closing_paise: Big;
  credits_paise: Big;
  debits_paise: Big;
  opening_date: ColumnType<string | null, string | null, string | null>;
  closing_date: ColumnType<string | null, string | null, string | null>;
  line_count: number;
  discom_id: NullableId;
  imported_by: NullableId;
  imported_at: Generated<Date>;
  /** Account + content (period, balances, lines): NULL for statements imported before 0016. */
  content_sha256: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface StatementLinesTable {
  id: Id;
  statement_id: Big;
  line_no: number;
  value_date: DateStr;
  booking_date: ColumnType<string | null, string | null, string | null>;
  direction: 'credit' | 'debit';
  amount_paise: Paise;
  currency: string;
  bank_ref: NullableText;
  utr: NullableText;
  va_number: NullableText;
  narrative: NullableText;
  payer_name: NullableText;
  payer_account: NullableText;
  status: 'new' | 'matched' | 'exception' | 'not_applicable';
  reason: NullableText;
  credit_id: NullableId;
  settlement_id: NullableText;
  /** The line's identity within its account (migration 0016). */
  line_key: string;
  date_as_sent: NullableText;
  review: ColumnType<'impossible_date' | null, 'impossible_date' | null | undefined, 'impossible_date' | null>;
}

export interface GatewaySettlementsTable {
  settlement_id: string;
  gateway: string;
  utr: NullableText;
  amount_paise: Paise;
  fees_paise: Paise;
  tax_paise: Paise;
  settled_at: NullableTime;
  payments: number;
  statement_line_id: NullableId;
  report_sha256: string;
  imported_at: Generated<Date>;
}

export type ExceptionReason =
  | 'amount_short'
  | 'amount_excess'
  | 'challan_expired'
  | 'unknown_va'
  | 'duplicate_credit'
  | 'several_candidates'
  | 'no_candidate'
  | 'not_settled'
  | 'short_capture'
  | 'unknown_order'
  | 'utr_amount_mismatch';
export type Resolution = 'part_payment' | 'advance' | 'extended' | 'assigned' | 'refund' | 'settled' | 'acknowledged';

export interface SettlementItemsTable {
  gateway_payment_id: string;
  settlement_id: string;
  order_id: NullableText;
  amount_paise: Paise;
  fee_paise: Paise;
  tax_paise: Paise;
}

export interface UnmatchedCapturesTable {
  id: Id;
  gateway: string;
  gateway_payment_id: string;
  order_id: NullableText;
  amount_paise: Paise;
  currency: string;
  method: NullableText;
  captured_at: Date;
  status: Generated<'held' | 'assigned' | 'refund'>;
  payment_id: NullableId;
  settlement_id: NullableText;
  created_at: Generated<Date>;
}

export interface ReconExceptionsTable {
  id: Id;
  reason: ExceptionReason;
  credit_id: NullableId;
  payment_id: NullableId;
  capture_id: NullableId;
  challan_id: NullableId;
  batch_id: NullableId;
  org_id: NullableId;
  discom_id: NullableId;
  amount_paise: Paise;
  detail: NullableText;
  status: Generated<'open' | 'resolved'>;
  resolution: ColumnType<Resolution | null, Resolution | null | undefined, Resolution | null>;
  resolved_by: NullableId;
  resolved_at: NullableTime;
  note: NullableText;
  created_at: Generated<Date>;
}

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface DB {
  discoms: DiscomsTable;
  circles: CirclesTable;
  divisions: DivisionsTable;
  subdivisions: SubdivisionsTable;
  tariff_categories: TariffCategoriesTable;
  connections: ConnectionsTable;
  bills: BillsTable;
  billing_sync_state: BillingSyncStateTable;
  billing_sync_rejects: BillingSyncRejectsTable;
  organisations: OrganisationsTable;
  offices: OfficesTable;
  users: UsersTable;
  sessions: SessionsTable;
  throttles: ThrottlesTable;
  one_time_codes: OneTimeCodesTable;
  notifications: NotificationsTable;
  api_keys: ApiKeysTable;
  audit_chains: AuditChainsTable;
  installation: InstallationTable;
  audit_log: AuditLogTable;
  schema_migrations: SchemaMigrationsTable;
  jobs: JobsTable;
  tags: TagsTable;
  connection_otps: ConnectionOtpsTable;
  tag_jobs: TagJobsTable;
  tag_job_files: TagJobFilesTable;
  tag_job_rows: TagJobRowsTable;
  tag_lookup_days: TagLookupDaysTable;
  connection_dues: ConnectionDuesTable;
  dues_versions: DuesVersionsTable;
  dues_org_months: DuesOrgMonthsTable;
  dues_summary_cache: DuesSummaryCacheTable;
  dues_selections: DuesSelectionsTable;
  dues_selection_items: DuesSelectionItemsTable;
  alert_preferences: AlertPreferencesTable;
  alerts_sent: AlertsSentTable;
  alert_runs: AlertRunsTable;
  state_transitions: StateTransitionsTable;
  idempotency_keys: IdempotencyKeysTable;
  payment_batches: PaymentBatchesTable;
  payment_batch_items: PaymentBatchItemsTable;
  payment_attempts: PaymentAttemptsTable;
  payments: PaymentsTable;
  allocations: AllocationsTable;
  receipt_series: ReceiptSeriesTable;
  receipts: ReceiptsTable;
  ledger_transactions: LedgerTransactionsTable;
  statement_imports: StatementImportsTable;
  ledger_entries: LedgerEntriesTable;
  postings: PostingsTable;
  webhook_events: WebhookEventsTable;
  payment_exceptions: PaymentExceptionsTable;
  collection_accounts: CollectionAccountsTable;
  challans: ChallansTable;
  bank_credits: BankCreditsTable;
  ecollect_validations: EcollectValidationsTable;
  bank_statements: BankStatementsTable;
  statement_lines: StatementLinesTable;
  gateway_settlements: GatewaySettlementsTable;
  recon_exceptions: ReconExceptionsTable;
  unmatched_captures: UnmatchedCapturesTable;
  settlement_items: SettlementItemsTable;
}
