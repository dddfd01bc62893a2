import type { FastifyRequest } from 'fastify';
import net from 'node:net';
import { AppError } from '../errors.ts';

/**
 * Where a request really came from, without believing any header a client or proxy writes.
 * The developer pages and /metrics answer only requests made on this machine directly: a
 * reverse proxy on the same host connects from 127.0.0.1 too, so a request carrying a
 * forwarding header is someone else's, relayed, and is refused.
 */

/** Headers a proxy adds (any one of them means the request was relayed). */
const FORWARDING = [
  'x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-server', 'x-client-ip', 'true-client-ip',
  'cf-connecting-ip', 'x-original-forwarded-for', 'x-cluster-client-ip', 'fastly-client-ip', 'via',
];

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (net.isIPv4(a)) return a.startsWith('127.');
  return a === '::1';
}

/** The TCP peer is this machine and no proxy relayed the request. */
export function isDirectLoopback(req: FastifyRequest): boolean {
  return isLoopbackAddress(req.socket.remoteAddress) && !FORWARDING.some((h) => req.headers[h] !== undefined);
}

/** An onRequest hook for the developer pages: refuses anything but a direct loopback request. */
export async function directLoopbackOnly(req: FastifyRequest): Promise<void> {
  if (!isDirectLoopback(req)) {
    throw new AppError('FORBIDDEN', [], {
      en: 'Developer pages answer only requests made on this machine directly, not through a proxy.',
      hi: 'डेवलपर पेज केवल इसी मशीन से सीधे किए गए अनुरोधों का उत्तर देते हैं, प्रॉक्सी से आए अनुरोधों का नहीं।',
    });
  }
}

/**
 * The key an address is counted under by the per-address limits: an IPv4 address as it is, an
 * IPv6 address by its /64 (one subscriber's whole block: anyone can pick another of its 2^64
 * addresses for each try).
 */
export function addressKey(ip: string): string {
  const a = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (!net.isIPv6(a)) return a;
  const [head, tail = ''] = a.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
