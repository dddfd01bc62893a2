import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import type { Text } from '../../platform/errors.ts';

/**
 * Passwords are hashed with argon2id (19 MiB, 2 passes: OWASP's recommended minimum). The
 * policy: 10 to 128 characters, not one of ~50,000 common passwords (also with digits or
 * symbols added at the end), and not containing the login id.
 */

// algorithm 2 is Argon2id (a const enum in the package's types, which this build cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const MIN_LENGTH = 10;
export const MAX_LENGTH = 128;

const common = new Set<string>((dictionary as { passwords: string[] }).passwords.map((p) => p.toLowerCase()));
for (const local of ['sangrahan', 'bihar', 'nbpdcl', 'sbpdcl', 'bsphcl', 'electricity', 'bijli', 'password']) common.add(local);

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  // Without a stored hash, still spend the time of a check, so that timing does not tell.
  const h = stored ?? DUMMY;
  try {
    const ok = await verify(h, password);
    return ok && stored !== null;
  } catch {
    return false;
  }
}

const DUMMY = '$argon2id$v=19$m=19456,t=2,p=1$XQwXeUdJWYtY8xzO0L3kyw$EmTBYcu4WJnlENwwLlJjwwfI1RdvWfA2H1PppuG2nZk';

export function passwordProblems(password: string, loginId?: string): Text[] {
  const out: Text[] = [];
  if (password.length < MIN_LENGTH) {
    out.push({ en: `must be at least ${MIN_LENGTH} characters`, hi: `कम से कम ${MIN_LENGTH} अक्षर होने चाहिए` });
  }
  if (password.length > MAX_LENGTH) {
    out.push({ en: `must be at most ${MAX_LENGTH} characters`, hi: `अधिकतम ${MAX_LENGTH} अक्षर हो सकते हैं` });
  }
  const lower = password.toLowerCase();
  const stem = lower.replace(/[\d\W_]+$/u, '');
  if (common.has(lower) || (stem.length >= 4 && common.has(stem))) {
    out.push({ en: 'is too common: choose one that is hard to guess', hi: 'बहुत आम है: ऐसा चुनें जिसका अनुमान कठिन हो' });
  }
  if (loginId && loginId.length >= 3 && lower.includes(loginId.toLowerCase())) {
    out.push({ en: 'must not contain the login ID', hi: 'इसमें लॉगिन आईडी नहीं होनी चाहिए' });
  }
  return out;
}
