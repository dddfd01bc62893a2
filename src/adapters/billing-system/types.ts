/**
 * The discom's billing system (SAP IS-U in Bihar), as the portal sees it: a source of consumer
 * master and bills, and a destination of payment postings. Implementations: the embedded
 * simulator (tables in schema billing_sim) and the CSV file variant (`import`).
 */

export interface ConnectionRecord {
  discomCode: string;
  consumerNo: string;
  subdivisionCode: string;
  name: string;
  address: string;
  category: string;
  supplyType: 'LT' | 'HT';
  sanctionedLoadVa: number;
  meterNo: string | null;
  registeredMobile: string | null;
  ownerPan: string | null;
  ownerDeptCode: string | null;
  status: 'active' | 'disconnected' | 'closed';
  /** Positive: due. Negative: advance credit. */
  balancePaise: bigint;
  /** When the billing system last changed the row: an ISO 8601 timestamp at the source's precision (µs). */
  changedAt: string;
}

export interface BillRecord {
  discomCode: string;
  billNo: string;
  consumerNo: string;
  /** 'YYYY-MM-01' */
  billMonth: string;
  billDate: string;
  dueDate: string;
  prevReading: number | null;
  currReading: number | null;
  units: number;
  billBasis: 'actual' | 'average' | 'provisional';
  energyChargePaise: bigint;
  fixedChargePaise: bigint;
  fuelSurchargePaise: bigint;
  electricityDutyPaise: bigint;
  meterRentPaise: bigint;
  currentDemandPaise: bigint;
  arrearsPaise: bigint;
  dpsPaise: bigint;
  rebatePaise: bigint;
  advanceCreditPaise: bigint;
  netPayablePaise: bigint;
  payableAfterDuePaise: bigint;
  lastPaymentPaise: bigint | null;
  lastPaymentDate: string | null;
  status: 'unpaid' | 'part_paid' | 'paid';
  /** As ConnectionRecord.changedAt. */
  changedAt: string;
}

/** Where a paged fetch of changes stands: connections are all sent before bills. */
export interface ChangeCursor {
  phase: 'connections' | 'bills';
  changedAt: string;
  key: string;
}

export interface ChangePage {
  connections: ConnectionRecord[];
  bills: BillRecord[];
  next: ChangeCursor | null;
}

export interface PaymentPosting {
  /** The portal's idempotency key: the same posting sent twice is applied once. */
  postingId: string;
  discomCode: string;
  consumerNo: string;
  amountPaise: bigint;
  paidAt: Date;
  mode: string;
  reference: string;
}

export type PostingAck =
  /** appliedAt: the billing system's time of applying it (ISO 8601, as changedAt): a balance changed at or after it includes it. */
  | { postingId: string; status: 'accepted' | 'duplicate'; billingReceiptNo: string; appliedAt: string }
  | { postingId: string; status: 'rejected'; reason: string };

export interface BillingSystem {
  readonly name: string;
  /** The billing system's own clock (ISO 8601): changes are stamped by it, so syncs are anchored to it. */
  currentTime(): Promise<string>;
  /** Connections and bills changed after `since` (all when null), a page at a time. */
  fetchChanges(since: string | null, cursor: ChangeCursor | null, limit: number): Promise<ChangePage>;
  /** Applies payments; acknowledges each, idempotently by postingId. Throws BillingSystemDown when unreachable. */
  postPayments(postings: readonly PaymentPosting[]): Promise<PostingAck[]>;
}

export class BillingSystemDown extends Error {
  constructor(readonly until: Date | null) {
    super(`The billing system is unavailable${until ? ` until ${until.toISOString()}` : ''}`);
    this.name = 'BillingSystemDown';
  }
}

/** Column order shared by the simulator's tables, the staging tables and CSV files. */
export const CONNECTION_COLUMNS = [
  'discom_code', 'consumer_no', 'subdivision_code', 'name', 'address', 'category', 'supply_type',
  'sanctioned_load_va', 'meter_no', 'registered_mobile', 'owner_pan', 'owner_dept_code', 'status',
  'balance_paise', 'changed_at',
] as const;

export const BILL_COLUMNS = [
  'discom_code', 'bill_no', 'consumer_no', 'bill_month', 'bill_date', 'due_date', 'prev_reading',
  'curr_reading', 'units', 'bill_basis', 'energy_charge_paise', 'fixed_charge_paise',
  'fuel_surcharge_paise', 'electricity_duty_paise', 'meter_rent_paise', 'current_demand_paise',
  'arrears_paise', 'dps_paise', 'rebate_paise', 'advance_credit_paise', 'net_payable_paise',
  'payable_after_due_paise', 'last_payment_paise', 'last_payment_date', 'status', 'changed_at',
] as const;

export function connectionValues(r: ConnectionRecord): unknown[] {
  return [
    r.discomCode, r.consumerNo, r.subdivisionCode, r.name, r.address, r.category, r.supplyType,
    r.sanctionedLoadVa, r.meterNo, r.registeredMobile, r.ownerPan, r.ownerDeptCode, r.status,
    r.balancePaise, r.changedAt,
  ];
}

export function billValues(b: BillRecord): unknown[] {
  return [
    b.discomCode, b.billNo, b.consumerNo, b.billMonth, b.billDate, b.dueDate, b.prevReading,
    b.currReading, b.units, b.billBasis, b.energyChargePaise, b.fixedChargePaise,
    b.fuelSurchargePaise, b.electricityDutyPaise, b.meterRentPaise, b.currentDemandPaise,
    b.arrearsPaise, b.dpsPaise, b.rebatePaise, b.advanceCreditPaise, b.netPayablePaise,
    b.payableAfterDuePaise, b.lastPaymentPaise, b.lastPaymentDate, b.status, b.changedAt,
  ];
}
