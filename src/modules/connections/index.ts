export { ingestBillingCsv, ingestBillingRecords, stagingCsv, type IngestResult, type RowProblem } from './ingest.ts';
export { importBillingCsv, CONNECTION_FILE_COLUMNS, BILL_FILE_COLUMNS, type ImportInput, type ImportOptions } from './csv-import.ts';
export { SYNC_OVERLAP_MS, syncFromBillingSystem, type SyncResult } from './sync.ts';
