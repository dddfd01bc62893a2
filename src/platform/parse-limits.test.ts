import { describe, expect, it } from 'vitest';
import { checkLineLengths, LimitError } from './parse-limits.ts';

describe('the line limit', () => {
  it('reads lines ended by LF, CRLF or a lone CR (old Mac files), and refuses one long line, naming it', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `10${String(i).padStart(8, '0')},BILL${i}`);
    for (const eol of ['\n', '\r\n', '\r']) expect(() => checkLineLengths(Buffer.from(rows.join(eol)), 1024)).not.toThrow();
    const long = Buffer.from(`consumer_no\n${'7'.repeat(5000)}\n`);
    expect(() => checkLineLengths(long, 1024)).toThrow(LimitError);
    expect(() => checkLineLengths(long, 1024)).toThrow(/line 2/);
  });
});
