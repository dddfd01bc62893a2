import { loadConfig, type Config } from '../../src/platform/config.ts';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DEMO_SEED: 'false', BILLING_SYNC_INTERVAL_S: '0' }, overrides);
}
