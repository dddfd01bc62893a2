import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSpec } from '../src/platform/config.ts';

describe('README', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const table = readme.slice(readme.indexOf('<!-- config-table:start -->'), readme.indexOf('<!-- config-table:end -->'));

  it('documents every configuration variable with its default and meaning', () => {
    for (const v of configSpec) {
      const def = v.default === '' ? '(unset)' : `\`${v.default}\``;
      expect(table, v.env).toContain(`| \`${v.env}\` | ${def} | ${v.doc} |`);
    }
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows).toHaveLength(configSpec.length);
  });
});
