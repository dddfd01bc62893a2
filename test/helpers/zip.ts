import { createDeflateRaw, crc32 as zlibCrc32 } from 'node:zlib';

/**
 * Zips built by hand for the tests of hostile uploads: each entry's data as given (already
 * deflated, or stored), with whatever sizes the test wants the central directory to declare.
 */

export interface RawEntry {
  name: string;
  /** 8: deflate, 0: stored. */
  method: 0 | 8;
  data: Buffer;
  /** What the directory (and local header) declare. */
  uncompressedSize: number;
  crc32?: number;
}

export function writeZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc32 ?? 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(e.method, 10);
    cen.writeUInt32LE(e.crc32 ?? 0, 16);
    cen.writeUInt32LE(e.data.length, 20);
    cen.writeUInt32LE(e.uncompressedSize, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, name);
    parts.push(local, name, e.data);
    offset += local.length + name.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/** `bytes` of zeros, deflated as a stream (never held whole): about 1 KB per MB. */
export async function deflatedZeros(bytes: number): Promise<Buffer> {
  const d = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => d.on('end', resolve));
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = bytes; left > 0; left -= chunk.length) {
    if (!d.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => d.once('drain', r));
  }
  d.end();
  await done;
  return Buffer.concat(out);
}

export const crc32 = (b: Buffer): number => zlibCrc32(b);
