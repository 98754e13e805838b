/**
 * The built-in path normalizer for apps without `req.route` (Connect, or
 * middleware-only responses): folds identifier-like segments so a label never
 * carries an id, and bounds the label's length and depth.
 */
import { pathOf } from '../util/request-facts';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NUMBER = /^[+-]?\d+(?:[.,]\d+)?$/;
const HEX = /^(?:0x)?[0-9a-f]{12,}$/i;
const MIXED_TOKEN = /^(?=.*\d)[A-Za-z0-9_\-=+.~%]{16,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?$/;
const EMAIL = /^[^@/]+@[^@/]+\.[^@/]+$/;

/** Deepest path kept in a label; deeper segments fold into one `/…`. */
export const MAX_SEGMENTS = 8;
/** Longest segment kept verbatim. */
export const MAX_SEGMENT_LENGTH = 64;

/** Fold one path segment. */
export function normalizeSegment(seg: string): string {
  if (seg === '') return seg;
  if (NUMBER.test(seg)) return ':id';
  if (UUID.test(seg)) return ':uuid';
  if (DATE.test(seg)) return ':date';
  if (HEX.test(seg)) return ':hex';
  if (EMAIL.test(seg)) return ':email';
  if (MIXED_TOKEN.test(seg)) return ':token';
  if (seg.length > MAX_SEGMENT_LENGTH) return ':long';
  if (/^\d/.test(seg) && /\d{3,}/.test(seg)) return ':id';
  return seg;
}

/** Normalise a URL path (query stripped) into a bounded, id-free template. */
export function normalizePath(url: string): string {
  const path = pathOf(url);
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i > MAX_SEGMENTS) {
      out.push('…');
      break;
    }
    out.push(normalizeSegment(parts[i] as string));
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}
