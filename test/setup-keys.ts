import { setTotpKey } from '../src/modules/identity/index.ts';

/**
 * Every test process seals authenticator secrets with the key the vitest configs put in the
 * environment (TOTP_ENCRYPTION_KEY), as do the portal processes some tests start (they inherit it).
 */
setTotpKey(process.env.TOTP_ENCRYPTION_KEY ?? null);
