import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../platform/config.ts';
import { setAuditKey } from './audit.ts';

/**
 * The audit key: AUDIT_KEY when set; on the embedded database, a key file made once beside it
 * (outside the database files); on PostgreSQL without AUDIT_KEY, none (hashes still chain, but
 * someone who can write the database could recompute them): a warning says so.
 */
export function initAuditKey(config: Config, warn: (msg: string) => void = () => undefined): 'configured' | 'file' | 'none' {
  if (config.auditKey) {
    setAuditKey(config.auditKey);
    return 'configured';
  }
  if (!config.databaseUrl) {
    const file = path.join(config.dataDir, 'audit.key');
    fs.mkdirSync(config.dataDir, { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    setAuditKey(fs.readFileSync(file, 'utf8').trim());
    return 'file';
  }
  setAuditKey(null);
  warn('AUDIT_KEY is not set: audit entries are hash-chained but not keyed. Set AUDIT_KEY (32+ characters, kept outside the database).');
  return 'none';
}
