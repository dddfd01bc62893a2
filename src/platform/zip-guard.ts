import { createInflateRaw } from 'node:zlib';
import { LimitError, limitText, type ParseLimits } from './parse-limits.ts';

/**
 * A zip (an XLSX) checked before anything in it is unpacked: its central directory, read here
 * from the bytes, must declare no more entries and no more uncompressed bytes than the limits
 * allow; then every entry is inflated into nothing, counting, and refused the moment it yields
 * more than its declared size (a directory can lie). What the reader then gets is rebuilt from
 * the checked entries alone, each with its checked sizes, in an order that lets ExcelJS stream
 * (shared strings before worksheets): a local header the directory does not list, or a
 * different one at the listed place, never reaches it.
 *
 * Refused as unreadable: ZIP64, encryption, methods other than stored and deflate, entries
 * outside the file, and anything malformed.
 */

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Where the compressed bytes start. */
  dataStart: number;
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;

const broken = (why: string): never => {
  throw new LimitError('xlsx_size', limitText.xlsxBroken(why));
};

/** The central directory's entries, after checking the declared count and sizes against the limits. */
export function readCentralDirectory(buf: Buffer, limits: Pick<ParseLimits, 'maxXlsxEntries' | 'maxXlsxUncompressedBytes'>): ZipEntry[] {
  // The end record is in the last 22 + 65,535 (comment) bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) broken('no end of central directory');
  const total = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) broken('ZIP64');
  if (total > limits.maxXlsxEntries) throw new LimitError('xlsx_entries', limitText.xlsxEntries(total, limits.maxXlsxEntries));
  if (cdOffset + cdSize > eocd) broken('the central directory lies outside the file');

  const entries: ZipEntry[] = [];
  let declared = 0;
  let p = cdOffset;
  for (let k = 0; k < total; k++) {
    if (p + 46 > eocd || buf.readUInt32LE(p) !== CEN) broken(`central directory entry ${k + 1} is malformed`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc32 = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const uncompressedSize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || local === 0xffffffff) broken('ZIP64');
    if (flags & 1) broken('encrypted');
    if (method !== 0 && method !== 8) broken(`compression method ${method}`);
    declared += uncompressedSize;
    // Summed before anything is read further: a bomb is refused by its own declaration.
    if (declared > limits.maxXlsxUncompressedBytes) {
      throw new LimitError('xlsx_size', limitText.xlsxSize(sumDeclared(buf, cdOffset, total, eocd), limits.maxXlsxUncompressedBytes));
    }
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOC) broken(`no local header for ${JSON.stringify(name.slice(0, 60))}`);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (dataStart + compressedSize > buf.length) broken(`${JSON.stringify(name.slice(0, 60))} lies outside the file`);
    if (method === 0 && compressedSize !== uncompressedSize) broken(`${JSON.stringify(name.slice(0, 60))} has two sizes`);
    entries.push({ name, method, crc32, compressedSize, uncompressedSize, dataStart });
  }
  return entries;
}

/** For the message: the whole declared size, read without any check but bounds. */
function sumDeclared(buf: Buffer, p: number, total: number, end: number): number {
  let sum = 0;
  for (let k = 0; k < total && p + 46 <= end && buf.readUInt32LE(p) === CEN; k++) {
    sum += buf.readUInt32LE(p + 24);
    p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return sum;
}

/** Inflates each entry into nothing, refusing it as soon as it gives more than it declared. */
export async function verifyInflatedSizes(buf: Buffer, entries: ZipEntry[]): Promise<void> {
  for (const e of entries) {
    if (e.method !== 8) continue;
    await new Promise<void>((resolve, reject) => {
      let got = 0;
      const inflate = createInflateRaw();
      inflate.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got > e.uncompressedSize) {
          inflate.destroy();
          reject(new LimitError('xlsx_size', limitText.xlsxBroken(`${JSON.stringify(e.name.slice(0, 60))} unpacks to more than the ${e.uncompressedSize} bytes it declares`)));
        }
      });
      inflate.on('error', (err) => reject(new LimitError('xlsx_size', limitText.xlsxBroken(`${JSON.stringify(e.name.slice(0, 60))}: ${err.message}`))));
      inflate.on('end', () => (got === e.uncompressedSize ? resolve() : reject(new LimitError('xlsx_size', limitText.xlsxBroken(`${JSON.stringify(e.name.slice(0, 60))} unpacks to ${got} bytes, not the ${e.uncompressedSize} it declares`)))));
      inflate.end(buf.subarray(e.dataStart, e.dataStart + e.compressedSize));
    });
  }
}

/**
 * A zip of the checked entries alone, as a streaming reader reads one: local headers with the
 * sizes known (no data descriptors), shared strings and the workbook's parts before the
 * worksheets, ending with an empty end record. Empty entries (folders) are left out: the
 * streaming reader waits for ever on an entry of no bytes.
 */
export function rebuildForStreaming(buf: Buffer, entries: ZipEntry[]): Buffer[] {
  const isSheet = (n: string) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n);
  const kept = entries.filter((e) => e.compressedSize > 0);
  const ordered = [...kept.filter((e) => !isSheet(e.name)), ...kept.filter((e) => isSheet(e.name))];
  const parts: Buffer[] = [];
  for (const e of ordered) {
    const name = Buffer.from(e.name, 'utf8');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(LOC, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x0800, 6); // UTF-8 names; sizes in the header
    h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(e.crc32, 14);
    h.writeUInt32LE(e.compressedSize, 18);
    h.writeUInt32LE(e.uncompressedSize, 22);
    h.writeUInt16LE(name.length, 26);
    parts.push(h, name, buf.subarray(e.dataStart, e.dataStart + e.compressedSize));
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  parts.push(end);
  return parts;
}
