import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/faults/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each test file opens its own database (PGlite takes ~300 MB); two at a time fits 2 cores.
    maxWorkers: 2,
    env: { TZ: 'UTC', TOTP_ENCRYPTION_KEY: 'test-totp-key-not-secret-0123456789abcdef' },
    setupFiles: ['test/setup-keys.ts'],
  },
});
