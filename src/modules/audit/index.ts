export { recordAudit, recordAuditAlone, setAuditKey, type AuditEntry } from './audit.ts';
export { verifyAudit, type AuditVerification, type Checkpoint } from './verify.ts';
