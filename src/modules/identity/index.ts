export { installAccess, describeAccess, orgOf, userOf, SESSION_COOKIE, type Access } from './access.ts';
export { identityRoutes } from './routes.ts';
export { AuthService, issueCode, lockedError, passwordError, rateLimitedError } from './service.ts';
export { claimAttempt, clearBucket, lockedUntil, recordFailure } from './throttle.ts';
export { purgeExpired, revokeUserSessions } from './sessions.ts';
export { hashPassword, passwordProblems } from './passwords.ts';
export { totpCode, stepAt, newTotpSecret } from './totp.ts';
export { auditRefusal } from './refusals.ts';
export { initTotpKey, openSecret, resealSecrets, sealClearSecrets, sealSecret, setTotpKey, totpKeyId, TotpKeyMismatch } from './secrets.ts';
