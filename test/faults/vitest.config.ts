import { defineConfig } from 'vitest/config';

/**
 * Fault tests (test/faults): the portal as its own process, killed and restarted; PostgreSQL
 * restarted under load. PostgreSQL only (DATABASE_URL, as for `npm test`); one file at a time.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    maxWorkers: 1,
    env: { TZ: 'UTC', TOTP_ENCRYPTION_KEY: 'test-totp-key-not-secret-0123456789abcdef' },
    setupFiles: ['test/setup-keys.ts'],
  },
});
