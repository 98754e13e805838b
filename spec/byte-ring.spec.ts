import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteRing } from '../lib/util/byte-ring';

/** What the ring holds, oldest first: [text, seq, tag]. */
function contents(ring: ByteRing): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  ring.forEachNewest((text, seq, tag) => {
    out.push([text, seq, tag]);
  });
  return out.reverse();
}

/** A deterministic pseudo-random generator (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const ALPHABET = ['a', 'b', 'z', '{', '"', 'é', '€', '😀', ' '];

describe('ByteRing (the dashboard rings’ storage)', () => {
  it('keeps the newest records in order, with their sequence numbers and tags, within its record and byte bounds', () => {
    for (const [maxRecords, maxBytes, seed] of [
      [8, 256, 1],
      [50, 1024, 2],
      [3, 64, 3],
      [1000, 4096, 4],
    ] as const) {
      const ring = new ByteRing(maxRecords, maxBytes);
      const rand = rng(seed);
      const pushed: string[] = [];
      for (let i = 0; i < 3000; i++) {
        let text = '';
        const n = 1 + Math.floor(rand() * rand() * (maxBytes / 3));
        for (let j = 0; j < n; j++) text += ALPHABET[Math.floor(rand() * ALPHABET.length)];
        const stored = ring.push(text, i * 1.5);
        const bytes = Buffer.byteLength(text);
        assert.equal(stored, bytes <= ring.maxRecordBytes, `push ${i}: ${bytes} bytes, at most ${ring.maxRecordBytes} stored`);
        if (!stored) continue;
        pushed.push(text);
        const held = contents(ring);
        const label = `ring(${maxRecords}, ${maxBytes}) after push ${i}`;
        assert.ok(held.length >= 1 && held.length <= maxRecords, label);
        assert.equal(held.length, ring.size, label);
        assert.ok(held.reduce((a, [t]) => a + Buffer.byteLength(t), 0) <= maxBytes, label);
        // The held records are exactly the newest ones, unchanged.
        assert.deepEqual(
          held.map(([t]) => t),
          pushed.slice(pushed.length - held.length),
          label,
        );
        // Sequence numbers count every stored record; tags come back as given.
        assert.equal(held.at(-1)?.[1], pushed.length, label);
        for (let k = 1; k < held.length; k++) assert.equal(held[k]?.[1], (held[k - 1]?.[1] ?? 0) + 1, label);
        assert.equal(held.at(-1)?.[2], i * 1.5, label);
        // Nothing is evicted while the newest records fit in half the buffer.
        let sum = 0;
        let fit = 0;
        for (let k = pushed.length - 1; k >= 0 && fit < maxRecords; k--) {
          sum += Buffer.byteLength(pushed[k] as string);
          if (sum > maxBytes / 2) break;
          fit++;
        }
        assert.ok(held.length >= fit, `${label}: holds ${held.length}, the newest ${fit} fit in half the buffer`);
      }
    }
  });

  it('stores nothing for an empty text or one longer than a quarter of the buffer, and clear() empties it', () => {
    const ring = new ByteRing(10, 400);
    assert.equal(ring.push('kept'), true);
    assert.equal(ring.push(''), false);
    assert.equal(ring.push('x'.repeat(101)), false);
    assert.equal(ring.push('€'.repeat(34)), false, '102 bytes of UTF-8');
    assert.equal(ring.push('x'.repeat(100)), true);
    assert.deepEqual(
      contents(ring).map(([t]) => t.length),
      [4, 100],
    );
    ring.clear();
    assert.equal(ring.size, 0);
    assert.deepEqual(contents(ring), []);
    assert.equal(ring.push('again'), true);
    assert.deepEqual(
      contents(ring).map(([t]) => t),
      ['again'],
    );
  });

  it('stops iterating when the callback returns false', () => {
    const ring = new ByteRing(10, 1000);
    for (const t of ['a', 'b', 'c', 'd']) ring.push(t);
    const seen: string[] = [];
    ring.forEachNewest((t) => {
      seen.push(t);
      return seen.length < 2;
    });
    assert.deepEqual(seen, ['d', 'c']);
  });
});
