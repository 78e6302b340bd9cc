/**
 * The rows already seen, for dropping duplicates without holding the rows: a
 * hash set of 12-byte digests (the first 96 bits of a SHA-256) with the row
 * each was first seen on (or another number), in one typed array (open
 * addressing, linear probing). 16 bytes a slot at a load of at most one half:
 * 1,000,000 rows take 32 MB, and the garbage collector sees a single object.
 *
 * Two different rows share a 96-bit digest with a probability near 1e-17 for
 * a million rows; even then the later row would be reported as a duplicate
 * of the earlier one (and not deleted), never deleted in its place.
 */
import { hash } from 'node:crypto';

const WORDS_PER_SLOT = 4; // 3 words of digest, 1 word of value (0: empty slot)
const INITIAL_SLOTS = 1024;

export class DigestSet {
  private slots = new Uint32Array(INITIAL_SLOTS * WORDS_PER_SLOT);
  private capacity = INITIAL_SLOTS;
  private used = 0;

  get size(): number {
    return this.used;
  }

  /**
   * Adds the key with its value (a row number, or any number from 1 to
   * 2^32-1) and returns 0; when the key was already there, returns the value
   * it was first added with and changes nothing.
   */
  addOrGet(key: string, value: number): number {
    if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) throw new RangeError(`DigestSet: value ${value} is not between 1 and 2^32-1`);
    // A latin1 string is far cheaper to get from the hash than a Buffer (no ArrayBuffer per row).
    const digest = hash('sha256', key, 'binary');
    const a = word(digest, 0);
    const b = word(digest, 4);
    const c = word(digest, 8);
    const slot = this.find(a, b, c);
    const base = slot * WORDS_PER_SLOT;
    const existing = this.slots[base + 3]!;
    if (existing !== 0) return existing;
    this.slots[base] = a;
    this.slots[base + 1] = b;
    this.slots[base + 2] = c;
    this.slots[base + 3] = value;
    this.used++;
    if (this.used * 2 > this.capacity) this.grow();
    return 0;
  }

  /** The slot holding this digest, or the empty slot where it belongs. */
  private find(a: number, b: number, c: number): number {
    const mask = this.capacity - 1;
    const slots = this.slots;
    // The digest is uniformly random: its first word is a good slot number.
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const base = slot * WORDS_PER_SLOT;
      if (slots[base + 3] === 0) return slot;
      if (slots[base] === a && slots[base + 1] === b && slots[base + 2] === c) return slot;
    }
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.slots = new Uint32Array(this.capacity * WORDS_PER_SLOT);
    for (let slot = 0; slot < oldCapacity; slot++) {
      const base = slot * WORDS_PER_SLOT;
      if (old[base + 3] === 0) continue;
      const target = this.find(old[base]!, old[base + 1]!, old[base + 2]!) * WORDS_PER_SLOT;
      for (let word = 0; word < WORDS_PER_SLOT; word++) this.slots[target + word] = old[base + word]!;
    }
  }
}

/** Four bytes of a latin1 string (one byte per character) as an unsigned 32-bit number. */
function word(bytes: string, offset: number): number {
  return (bytes.charCodeAt(offset) | (bytes.charCodeAt(offset + 1) << 8) | (bytes.charCodeAt(offset + 2) << 16) | (bytes.charCodeAt(offset + 3) << 24)) >>> 0;
}
