import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    // Pages walked with axe in two languages: minutes on a loaded 2-core machine; a timeout is not what these tests assert.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    env: { TZ: 'UTC', TOTP_ENCRYPTION_KEY: 'test-totp-key-not-secret-0123456789abcdef' },
    setupFiles: ['test/setup-keys.ts'],
  },
});
