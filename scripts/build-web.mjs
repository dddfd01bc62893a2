// Builds the web app with Vite. With --if-needed, skips the build when web/dist was built from
// the same sources (a hash of web/ without dist, recorded in web/dist/.source-hash).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const dist = path.join(web, 'dist');
const stamp = path.join(dist, '.source-hash');

function hashSources() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (p === dist || e.name === 'node_modules') continue;
      if (e.isDirectory()) walk(p);
      else h.update(path.relative(web, p)).update('\0').update(fs.readFileSync(p));
    }
  };
  walk(web);
  h.update(fs.readFileSync(path.join(root, 'package-lock.json')));
  return h.digest('hex');
}

const hash = hashSources();
if (process.argv.includes('--if-needed') && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) {
  process.exit(0);
}
console.log('Building the web app …');
const { build } = await import('vite');
await build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
fs.writeFileSync(stamp, hash);
console.log('Web app built into web/dist.');
