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
  schema_migrations: SchemaMigrationsTable;
}
