/**
 * Writes the README's configuration table from the configuration's own declarations
 * (src/platform/config.ts), so the two cannot drift: `npx tsx scripts/config-table.ts`.
 * test/docs.test.ts fails when they differ.
 */
import fs from 'node:fs';
import { configSpec } from '../src/platform/config.ts';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';
const readme = fs.readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error('README.md has no config-table markers');
const head = readme.slice(a + START.length, b).split('\n').filter((l) => l.startsWith('|') && !l.startsWith('| `'));
const rows = configSpec.map((v) => `| \`${v.env}\` | ${v.default === '' ? '(unset)' : `\`${v.default}\``} | ${v.doc} |`);
fs.writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${[...head, ...rows].join('\n')}\n${readme.slice(b)}`);
console.log(`README.md: ${rows.length} configuration variables`);
