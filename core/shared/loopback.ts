/**
 * Whether a host is this machine's loopback: `localhost`, `::1`, an IPv4
 * literal in 127.0.0.0/8 (or its IPv4-mapped IPv6 form). An address, never a
 * name that merely starts like one: `127.evil.example` is a name anyone can
 * point anywhere, and a token sent to it over plain HTTP would travel in clear.
 */
import { isIP } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h);
  return false;
}
