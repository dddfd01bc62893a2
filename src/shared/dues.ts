/**
 * The dues API's response shapes, shared by the server (which builds them) and the web app
 * (which shows them). Money is integer paise as decimal strings.
 */

export interface Figures {
  connections: number;
  outstandingPaise: string;
  overduePaise: string;
  overdueCount: number;
  due7Paise: string;
  due7Count: number;
  dpsChargedPaise: string;
  dpsRiskPaise: string;
  rebatePaise: string;
  advancePaise: string;
  anomalies: number;
}

export interface Summary {
  day: string;
  totals: Figures;
  anomalies: { deviation: number; zero: number; estimated: number; reading_break: number };
  byOffice: (Figures & { id: string | null; code: string | null; name: string | null })[];
  byDivision: (Figures & { id: string; name: string; nameHi: string })[];
  byCategory: (Figures & { code: string; name: string; nameHi: string })[];
  dueBuckets: { bucket: string; count: number; amountPaise: string }[];
  months: { month: string; bills: number; billedPaise: string; units: string; paidBills: number }[];
}

/**
 * The open payment batch that holds a connection (it cannot enter another until that one is paid,
 * cancelled or rejected). id, reference and status are null when the batch belongs to an office
 * above the user's: its existence is said, not its reference.
 */
export interface OpenBatchMark {
  id: string | null;
  reference: string | null;
  status: string | null;
}

export interface DuesRow {
  connectionId: string;
  discom: string;
  consumerNo: string;
  name: string;
  category: string;
  division: { id: string; name: string; nameHi: string };
  office: { id: string; code: string; name: string } | null;
  connectionStatus: string;
  balancePaise: string;
  status: 'overdue' | 'due' | 'clear' | 'credit';
  billMonth: string | null;
  dueDate: string | null;
  netPayablePaise: string;
  payableAfterDuePaise: string;
  rebatePaise: string;
  dpsPaise: string;
  units: number;
  billBasis: string | null;
  flags: string[];
  openBatch: OpenBatchMark | null;
}

export interface BillView {
  billId: string;
  billNo: string;
  billMonth: string;
  billDate: string;
  dueDate: string;
  prevReading: number | null;
  currReading: number | null;
  units: number;
  billBasis: string;
  energyChargePaise: string;
  fixedChargePaise: string;
  fuelSurchargePaise: string;
  electricityDutyPaise: string;
  meterRentPaise: string;
  currentDemandPaise: string;
  arrearsPaise: string;
  dpsPaise: string;
  rebatePaise: string;
  advanceCreditPaise: string;
  netPayablePaise: string;
  payableAfterDuePaise: string;
  lastPaymentPaise: string | null;
  lastPaymentDate: string | null;
  status: string;
  flags: string[];
  avgUnits: number | null;
}

export interface ConnectionView {
  connectionId: string;
  discom: { code: string; name: string; nameHi: string };
  consumerNo: string;
  name: string;
  address: string;
  category: { code: string; name: string; nameHi: string };
  supplyType: string;
  sanctionedLoadVa: number;
  meterNo: string | null;
  status: string;
  division: { name: string; nameHi: string };
  subdivision: { name: string; nameHi: string };
  office: { id: string; code: string; name: string } | null;
  balancePaise: string;
  syncedAt: string;
  bills: BillView[];
  openBatch: OpenBatchMark | null;
  payments: { date: string; amountPaise: string; stage: 'posted'; source: 'billing_system' }[];
}

/** What GET /api/v1/org/dues/summary answers: the summary, when it was computed, and data freshness. */
export interface SummaryResponse extends Summary {
  computedAt: string;
  thresholds: { lowPct: number; highPct: number };
  freshness: { lastSyncedAt: string | null; lastStartedAt: string | null; lastError: string | null };
}
