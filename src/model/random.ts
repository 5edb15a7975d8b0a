/**
 * A small seeded random number generator (mulberry32), so that initialisation, shuffling and dropout
 * are the same for the same `--seed` on every backend.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** The generator's state, for checkpoints. */
  state(): number;
}

/** Creates a generator from a 32-bit seed or a saved state. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    state: () => s,
  };
}

/** Fills `out` with samples of U(-bound, bound). */
export function fillUniform(rng: Rng, out: Float32Array, bound: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

/** Shuffles `order` in place (Fisher–Yates). */
export function shuffle(rng: Rng, order: Uint32Array): Uint32Array {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** The independent random streams a training sample draws from. */
export const STREAMS = { augment: 1, dropout: 2, negative: 3, neighbour: 4 } as const;

/**
 * The generator of one sample's `stream` in `epoch` of a run with `seed`: the same numbers whatever
 * the batch, its order, the worker that draws them or a resume. The four numbers are mixed with
 * murmur3's 32-bit finaliser, one round per number.
 */
export function sampleRng(seed: number, epoch: number, sample: number, stream: number): Rng {
  let h = 0x9e3779b9;
  for (const v of [seed, epoch, sample, stream]) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return createRng(h);
}
