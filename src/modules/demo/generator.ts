import { billValues, connectionValues, type BillRecord, type ConnectionRecord } from '../../adapters/billing-system/types.ts';
import type { CsvValue } from '../../platform/csv.ts';
import { stagingCsv } from '../connections/index.ts';
import { DISCOMS, subdivisionsOf, type CategoryCode, type SubdivisionRef } from './geography.ts';
import { ORGANISATIONS, type Behaviour, type OrgDef } from './organisations.ts';

/**
 * Deterministic demo data: the same (seed, connections, as-of month) gives the same consumer
 * master and the same 12 months of bills, byte for byte. Each connection draws from its own
 * random stream, so the output does not depend on how it is chunked.
 *
 * Billing rules used here (DOMAIN.md; rates are the demo discoms' policy):
 *  - current demand = energy + fixed + fuel surcharge + electricity duty (6% of energy + fixed) + meter rent;
 *  - the balance carried from the last bill shows as arrears (due) or advance credit;
 *  - DPS on a bill = dps rate × what was still unpaid at the previous bill's due date;
 *  - rebate if paid by the due date = rebate rate × current demand, never more than the payable;
 *  - net payable by due date = carried + current + DPS − rebate (never below zero);
 *  - payable after due date = carried + current + DPS + one month's DPS on the current demand.
 * Payers behave as on time, late, in arrears (part or no payment) or paying in advance.
 */

export const DPS_BP = 150;
export const REBATE_BP = 150;
const ELECTRICITY_DUTY_BP = 600;
const FUEL_SURCHARGE_PAISE_PER_UNIT = 15;

interface Tariff {
  ratePaise: number; // per unit
  fixedPaisePerKw: number; // per kW or kVA per month
  units: readonly [number, number]; // typical monthly range
  loadVa: readonly [number, number];
  seasonal: number; // 0 = flat, 1 = full summer peak
}

const TARIFFS: Record<CategoryCode, Tariff> = {
  'DS-I': { ratePaise: 610, fixedPaisePerKw: 2000, units: [30, 90], loadVa: [500, 1000], seasonal: 1 },
  'DS-II': { ratePaise: 700, fixedPaisePerKw: 4000, units: [80, 350], loadVa: [1000, 5000], seasonal: 1 },
  'NDS-II': { ratePaise: 780, fixedPaisePerKw: 20000, units: [150, 1500], loadVa: [2000, 20000], seasonal: 1 },
  'LTIS-II': { ratePaise: 760, fixedPaisePerKw: 25000, units: [800, 8000], loadVa: [10000, 70000], seasonal: 0.3 },
  'IAS-II': { ratePaise: 590, fixedPaisePerKw: 4000, units: [200, 1500], loadVa: [3000, 11000], seasonal: 1 },
  PWW: { ratePaise: 800, fixedPaisePerKw: 30000, units: [800, 6000], loadVa: [5000, 40000], seasonal: 0.5 },
  SS: { ratePaise: 790, fixedPaisePerKw: 10000, units: [150, 2500], loadVa: [1000, 10000], seasonal: 0 },
  'HTS-I': { ratePaise: 720, fixedPaisePerKw: 45000, units: [20000, 200000], loadVa: [100000, 1500000], seasonal: 0.3 },
  'HTS-II': { ratePaise: 700, fixedPaisePerKw: 45000, units: [200000, 1500000], loadVa: [1500000, 8000000], seasonal: 0.2 },
  HTSS: { ratePaise: 640, fixedPaisePerKw: 50000, units: [300000, 2000000], loadVa: [2000000, 10000000], seasonal: 0.1 },
};

// Jan … Dec: Bihar's summer and monsoon draw more (fans, pumps).
const SEASON = [0.8, 0.8, 0.9, 1.15, 1.3, 1.35, 1.25, 1.2, 1.15, 1.0, 0.85, 0.8];

const FIRST = ['Ram', 'Shyam', 'Sunil', 'Anil', 'Rajesh', 'Manoj', 'Sanjay', 'Pankaj', 'Vinod', 'Rakesh', 'Suresh', 'Ramesh', 'Dinesh', 'Mukesh', 'Sunita', 'Anita', 'Rekha', 'Savitri', 'Meena', 'Kiran', 'Pooja', 'Priya', 'Mohammad Aslam', 'Abdul Kalam', 'Shabnam', 'Nazia', 'Birendra', 'Upendra', 'Lalan', 'Chandan'];
const LAST = ['Kumar', 'Singh', 'Yadav', 'Prasad', 'Sinha', 'Mishra', 'Jha', 'Paswan', 'Mahto', 'Mandal', 'Sah', 'Choudhary', 'Thakur', 'Ansari', 'Khan', 'Pandey', 'Tiwari', 'Rai', 'Manjhi', 'Sharma', 'Gupta', 'Devi', 'Kumari'];
const LOCALITY = ['Mahavir Chowk', 'Station Road', 'Kali Bari', 'Shivpuri', 'Naya Tola', 'Purani Bazar', 'Gandhi Nagar', 'Subhash Chowk', 'Masjid Road', 'Hanuman Nagar', 'Bazar Samiti', 'Thana Road', 'Rajendra Path', 'Durga Asthan'];

/** splitmix32: a well-mixed 32-bit hash of a 32-bit input. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** mulberry32 stream. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    const total = xs.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [x, w] of xs) {
      r -= w;
      if (r < 0) return x;
    }
    return xs[xs.length - 1]![0];
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

export interface GeneratorOptions {
  seed: number;
  connections: number;
  /** Bills run up to the month of this date (the latest bill is issued by the 10th). */
  asOf: Date;
  /** Stamped as the billing system's change time (ISO 8601). */
  changedAt: string;
  /** Months of bills per connection (default 12; benchmarks use fewer). */
  months?: number;
}

export interface GeneratedConnection {
  connection: ConnectionRecord;
  bills: BillRecord[];
  org: OrgDef | null;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const iso = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (d: Date, n: number) => new Date(d.getTime() + n * 86_400_000);

function ownerOf(i: number, total: number, r: number): OrgDef | null {
  let fixed = 0;
  for (const o of ORGANISATIONS) {
    if (o.count === undefined) continue;
    if (i < fixed + o.count) return o;
    fixed += o.count;
  }
  if (total <= fixed) return null;
  let acc = 0;
  for (const o of ORGANISATIONS) {
    if (o.share === undefined) continue;
    acc += o.share;
    if (r < acc) return o;
  }
  return null;
}

function fill(template: string, rng: Rng, place: string): string {
  return template.replace('{place}', place).replace('{n}', String(rng.int(1, 48)));
}

function personalPan(rng: Rng): string {
  const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const letter = () => L[rng.int(0, 25)]!;
  return `${letter()}${letter()}${letter()}P${letter()}${rng.digits(4)}${letter()}`;
}

export class DemoGenerator {
  private readonly subs: SubdivisionRef[][];
  private readonly counters = new Map<string, number>();
  private readonly months: Date[];
  private readonly monthIso: string[];
  private readonly yymm: string[];
  private readonly seedMix: number;
  private readonly dateCache = new Map<number, { bill: string; due: string; dueDay: number }>();
  private readonly dayCache = new Map<number, string>();

  constructor(private readonly opts: GeneratorOptions) {
    this.subs = DISCOMS.map(subdivisionsOf);
    this.seedMix = mix32(opts.seed ^ 0x5a17);
    const asOf = opts.asOf;
    // Billing cycles run on every day from the 1st to the 28th (by subdivision), so at any date
    // some bills are overdue and some are still to fall due, as in a real discom. A connection's
    // latest bill is this month's once its cycle day has passed, else last month's: the months
    // hold one more than a connection needs, and each takes the window that ends at its bill.
    const y = asOf.getUTCFullYear();
    const m = asOf.getUTCMonth();
    this.months = [];
    for (let k = opts.months ?? 12; k >= 0; k--) this.months.push(new Date(Date.UTC(y, m - k, 1)));
    this.monthIso = this.months.map(iso);
    this.yymm = this.months.map((d) => `${pad(d.getUTCFullYear() % 100, 2)}${pad(d.getUTCMonth() + 1, 2)}`);
  }

  /** Connections [from, to) in order. */
  *range(from: number, to: number): Generator<GeneratedConnection> {
    for (let i = from; i < to; i++) yield this.one(i);
  }

  private nextSerial(key: string): number {
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return n;
  }

  private one(i: number): GeneratedConnection {
    const rng = new Rng(mix32(this.seedMix ^ mix32(i)));
    const org = ownerOf(i, this.opts.connections, rng.next());
    const discomIx = rng.next() < 0.52 ? 0 : 1;
    const discom = DISCOMS[discomIx]!;
    const sub = rng.pick(this.subs[discomIx]!);
    const category: CategoryCode = org
      ? rng.weighted(org.categories)
      : rng.weighted([['DS-II', 70], ['DS-I', 12], ['NDS-II', 14], ['LTIS-II', 3], ['HTS-I', 1]] as const);
    const tariff = TARIFFS[category];
    const ht = category.startsWith('HT');
    const consumerNo = ht
      ? `9${sub.code}${pad(this.nextSerial(`${discom.code}:${sub.code}:HT`), 5)}`
      : `${discom.ltPrefix}${sub.code}${pad(this.nextSerial(`${discom.code}:${sub.code}`), discom.ltSerialDigits)}`;
    const locality = rng.pick(LOCALITY);
    const place = `${locality}, ${sub.name}`;
    const name = org ? fill(rng.pick(org.sites), rng, sub.name) : `${rng.pick(FIRST)} ${rng.pick(LAST)}`;
    const address = `Ward ${rng.int(1, 40)}, ${place}, ${sub.circle.name}, Bihar`;
    const loadVa = Math.round(rng.int(tariff.loadVa[0], tariff.loadVa[1]) / 100) * 100;
    let ownerPan: string | null = null;
    let ownerDept: string | null = null;
    if (org) {
      if (rng.next() < 0.88) {
        if (org.departmentCode) ownerDept = org.departmentCode;
        else ownerPan = org.pan ?? null;
      }
    } else if (rng.next() < 0.25) {
      ownerPan = personalPan(rng);
    }
    const behaviour: Behaviour = org
      ? rng.weighted(org.behaviour)
      : rng.weighted([['on_time', 55], ['late', 25], ['arrears', 15], ['advance', 5]] as const);

    const bills = this.bills(rng, discom.code, consumerNo, sub, tariff, loadVa, ht, behaviour);
    const last = bills.balance;
    const status: ConnectionRecord['status'] = behaviour === 'arrears' && last > 5_000_000n && rng.next() < 0.3 ? 'disconnected' : 'active';
    const connection: ConnectionRecord = {
      discomCode: discom.code,
      consumerNo,
      subdivisionCode: sub.code,
      name,
      address,
      category,
      supplyType: ht ? 'HT' : 'LT',
      sanctionedLoadVa: loadVa,
      meterNo: ht ? `HT${rng.digits(7)}` : `BR${rng.digits(8)}`,
      registeredMobile: rng.next() < 0.95 ? `${rng.int(6, 9)}${rng.digits(9)}` : null,
      ownerPan,
      ownerDeptCode: ownerDept,
      status,
      balancePaise: last,
      changedAt: this.opts.changedAt,
    };
    return { connection, bills: bills.records, org };
  }

  /** Dates of a bill month for a cycle day, as ISO strings and day numbers, computed once. */
  private dates(monthIx: number, cycleDay: number, ht: boolean): { bill: string; due: string; dueDay: number } {
    const key = monthIx * 100 + cycleDay * 2 + (ht ? 1 : 0);
    let v = this.dateCache.get(key);
    if (!v) {
      const month = this.months[monthIx]!;
      const billDate = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), cycleDay));
      const dueDate = addDays(billDate, ht ? 21 : 15);
      v = { bill: iso(billDate), due: iso(dueDate), dueDay: dueDate.getTime() / 86_400_000 };
      this.dateCache.set(key, v);
    }
    return v;
  }

  private isoDay(day: number): string {
    let v = this.dayCache.get(day);
    if (!v) {
      v = iso(new Date(day * 86_400_000));
      this.dayCache.set(day, v);
    }
    return v;
  }

  // Money is whole paise; amounts stay far below 2^53, so plain numbers are exact here.
  private bills(
    rng: Rng,
    discomCode: string,
    consumerNo: string,
    sub: SubdivisionRef,
    tariff: Tariff,
    loadVa: number,
    ht: boolean,
    behaviour: Behaviour,
  ): { records: BillRecord[]; balance: bigint } {
    const asOfDay = Math.floor(this.opts.asOf.getTime() / 86_400_000);
    const cycleDay = 1 + (Number(sub.code) % 28);
    const first = cycleDay <= this.opts.asOf.getUTCDate() ? 1 : 0;
    const base = rng.int(tariff.units[0], tariff.units[1]);
    const bp = (x: number, rate: number) => Math.floor((x * rate + 5000) / 10000);
    let reading = ht ? rng.int(100_000, 5_000_000) : rng.int(1_000, 60_000);
    let balance = 0; // accounts start settled, twelve bills back
    let unpaidAtDue = 0;
    let lastPayment: { amount: number; date: string } | null = null;
    const history: number[] = [];
    const records: BillRecord[] = [];

    for (let mi = first; mi < first + this.months.length - 1; mi++) {
      const month = this.months[mi]!;
      const dates = this.dates(mi, cycleDay, ht);
      const season = 1 + (SEASON[month.getUTCMonth()]! - 1) * tariff.seasonal;
      let units = Math.max(0, Math.round(base * season * (0.85 + rng.next() * 0.3)));
      let basis: BillRecord['billBasis'] = 'actual';
      let prevReading = reading;
      const a = rng.next();
      if (a < 0.02) units = 0;
      else if (a < 0.07 && history.length >= 3) {
        basis = 'average';
        const recent = history.slice(-6);
        units = Math.round(recent.reduce((s, u) => s + u, 0) / recent.length);
      } else if (a < 0.09 && history.length >= 1) {
        basis = 'provisional';
        units = history[history.length - 1]!;
      } else if (a < 0.1) {
        prevReading = ht ? rng.int(0, 1000) : rng.int(0, 100); // meter replaced: readings restart
      } else if (a < 0.115) {
        units = Math.round(units * 1.8);
      }
      const currReading = basis === 'actual' ? prevReading + units : null;
      if (currReading !== null) reading = currReading;
      history.push(units);

      const energy = units * tariff.ratePaise;
      const fixed = Math.round((loadVa * tariff.fixedPaisePerKw) / 1000);
      const fuel = units * FUEL_SURCHARGE_PAISE_PER_UNIT;
      const duty = bp(energy + fixed, ELECTRICITY_DUTY_BP);
      const meterRent = ht ? 150_000 : loadVa > 5000 ? 5_000 : 2_000;
      const current = energy + fixed + fuel + duty + meterRent;
      const dps = bp(unpaidAtDue, DPS_BP);
      const arrears = balance > 0 ? balance : 0;
      const advance = balance < 0 ? -balance : 0;
      const gross = balance + current + dps;
      const payable = gross > 0 ? gross : 0;
      const rebate = Math.min(bp(current, REBATE_BP), payable);
      const net = payable - rebate;
      const afterDue = payable + bp(current, DPS_BP);
      balance = gross;

      // What this payer does about this bill (every payment lands before the next bill).
      let pay = 0;
      let credit = 0; // rebate credited with an on-time payment
      let payDay = dates.dueDay;
      let kind: Behaviour = behaviour;
      if (kind === 'on_time' && rng.next() < 0.05) kind = 'late';
      if (payable > 0) {
        if (kind === 'on_time') {
          pay = net;
          credit = rebate;
          payDay -= rng.int(1, 10);
        } else if (kind === 'late') {
          pay = payable;
          payDay += rng.int(3, 12);
        } else if (kind === 'arrears') {
          if (rng.next() < 0.45) {
            pay = Math.floor((payable * rng.int(30, 80)) / 100 / 10000) * 10000;
            payDay += rng.int(5, 12);
          }
        } else {
          pay = (Math.floor(net / 100_000) + 2) * 100_000;
          credit = rebate;
          payDay -= rng.int(3, 10);
        }
      }
      const happened = pay > 0 && payDay <= asOfDay;
      const settledByDue = happened && payDay <= dates.dueDay ? pay + credit : 0;
      unpaidAtDue = Math.max(0, payable - settledByDue);
      if (happened) balance -= pay + credit;
      const status: BillRecord['status'] =
        payable === 0 || (happened && pay + credit >= payable) ? 'paid' : happened ? 'part_paid' : 'unpaid';

      records.push({
        discomCode,
        billNo: `${this.yymm[mi]}${consumerNo}`,
        consumerNo,
        billMonth: this.monthIso[mi]!,
        billDate: dates.bill,
        dueDate: dates.due,
        prevReading: basis === 'actual' ? prevReading : null,
        currReading,
        units,
        billBasis: basis,
        energyChargePaise: BigInt(energy),
        fixedChargePaise: BigInt(fixed),
        fuelSurchargePaise: BigInt(fuel),
        electricityDutyPaise: BigInt(duty),
        meterRentPaise: BigInt(meterRent),
        currentDemandPaise: BigInt(current),
        arrearsPaise: BigInt(arrears),
        dpsPaise: BigInt(dps),
        rebatePaise: BigInt(rebate),
        advanceCreditPaise: BigInt(advance),
        netPayablePaise: BigInt(net),
        payableAfterDuePaise: BigInt(afterDue),
        lastPaymentPaise: lastPayment ? BigInt(lastPayment.amount) : null,
        lastPaymentDate: lastPayment?.date ?? null,
        status,
        changedAt: this.opts.changedAt,
      });
      if (happened) lastPayment = { amount: pay, date: this.isoDay(payDay) };
    }
    return { records, balance: BigInt(balance) };
  }
}

export interface CsvChunk {
  from: number;
  to: number;
  connectionsCsv: string;
  billsCsv: string;
  bills: number;
}

/** Connections [from, to) as staging CSV for ingestBillingCsv. */
export function chunkCsv(gen: DemoGenerator, from: number, to: number): CsvChunk {
  const conns: unknown[][] = [];
  const bills: unknown[][] = [];
  for (const g of gen.range(from, to)) {
    conns.push(connectionValues(g.connection));
    for (const b of g.bills) bills.push(billValues(b));
  }
  return {
    from,
    to,
    connectionsCsv: [...stagingCsv(conns as CsvValue[][], from + 1)].join(''),
    billsCsv: [...stagingCsv(bills as CsvValue[][])].join(''),
    bills: bills.length,
  };
}
