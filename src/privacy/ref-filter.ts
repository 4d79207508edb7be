// A Bloom filter over student refs: "may this ref be in the set?" in a few
// bit reads, a false "yes" for about 1 in 100 refs not in it, never a false
// "no". A ref is the hex of an HMAC, uniformly random already, so its own
// bytes serve as the k independent indexes (no further hashing).

/** 9.6 bits per ref and 7 indexes: about 1 % false positives. */
const BITS_PER_REF = 9.6;
const INDEXES = 7;
const HEX_PER_INDEX = 8;

export interface RefFilter {
  /** How many refs were added. */
  readonly size: number;
  add(ref: string): void;
  mayHold(ref: string): boolean;
}

/** Lower-case hex of 32 bytes: the form of every student ref. */
export const isRef = (value: string): boolean => /^[0-9a-f]{64}$/.test(value);

export function createRefFilter(expected: number): RefFilter {
  const bits = Math.max(64, Math.ceil(expected * BITS_PER_REF));
  const words = new Uint32Array(Math.ceil(bits / 32));
  const indexes = (ref: string): number[] => {
    if (!isRef(ref)) throw new RangeError('not a student ref');
    return Array.from({ length: INDEXES }, (_, i) => parseInt(ref.slice(i * HEX_PER_INDEX, (i + 1) * HEX_PER_INDEX), 16) % bits);
  };
  let size = 0;
  return {
    get size() {
      return size;
    },
    add(ref) {
      for (const i of indexes(ref)) words[i >>> 5]! |= 1 << (i & 31);
      size++;
    },
    mayHold(ref) {
      return indexes(ref).every((i) => (words[i >>> 5]! & (1 << (i & 31))) !== 0);
    },
  };
}
