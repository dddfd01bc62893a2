export { recordAudit, recordAuditAlone, type AuditEntry } from './audit.ts';
export { verifyAudit, type AuditVerification } from './verify.ts';
