import { describe, expect, it } from 'vitest';
import en from './en.json';
import hi from './hi.json';

type Tree = { [k: string]: string | Tree };

function flatten(t: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(t)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [k2, v2] of flatten(v, key)) out.set(k2, v2);
  }
  return out;
}

// Strings that are the same in both languages on purpose.
const SAME = new Set<string>(['discom.subdivision']);

describe('translations', () => {
  const e = flatten(en);
  const h = flatten(hi);

  it('has every English string in Hindi and nothing extra', () => {
    expect([...h.keys()].sort()).toEqual([...e.keys()].sort());
  });

  it('translates every string (Hindi text differs from English and is in Devanagari)', () => {
    const untranslated = [...e].filter(([k, v]) => !SAME.has(k) && (h.get(k) === v || !/[\u0900-\u097F]/.test(h.get(k) ?? '')));
    // The language switch names the other language, in that language.
    expect(untranslated.map(([k]) => k)).toEqual(['app.switchTo']);
  });

  it('keeps the same interpolation variables in both languages', () => {
    const vars = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const [k, v] of e) expect(vars(h.get(k) ?? ''), k).toEqual(vars(v));
  });
});
