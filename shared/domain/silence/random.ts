// Seeded random draws for the silence detectors' simulations (decision limits, trials): uniform,
// Poisson, gamma, negative binomial and binomial on pure-rand, so every run is repeatable.

import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
  /** In [0, 1). */
  uniform(): number;
  /** In [0, 1), with 32 bits of resolution: enough to invert a tabulated CDF, and quicker. */
  uniform32(): number;
  poisson(mean: number): number;
  /** Gamma with this shape and scale 1. */
  gamma(shape: number): number;
  /** Negative binomial by its mean and size (variance mean + mean²/size); size undefined: Poisson. */
  negativeBinomial(mean: number, size: number | undefined): number;
  binomial(trials: number, p: number): number;
  normal(): number;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Mixes a seed (splitmix32's finaliser): nearby seeds must not give nearby streams. */
function mix(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

export function createRandom(seed: number): Random {
  const rng = xoroshiro128plus(mix(seed));
  // The generator's first outputs still echo its seed: let the state mix before using it.
  for (let i = 0; i < 20; i++) rng.next();
  const uniform = () => uniformFloat64(rng);
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    // Marsaglia's polar method: two normals per accepted pair.
    for (;;) {
      const u = 2 * uniform() - 1;
      const v = 2 * uniform() - 1;
      const s = u * u + v * v;
      if (s === 0 || s >= 1) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * f;
      return u * f;
    }
  };
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * uniform() ** (1 / shape);
    // Marsaglia and Tsang (2000).
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x ** 4) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const poisson = (mean: number): number => {
    if (mean <= 0) return 0;
    if (mean < 30) {
      // Inversion by sequential search: one uniform, about `mean` steps.
      let p = Math.exp(-mean);
      let cdf = p;
      const u = uniform();
      let k = 0;
      while (u > cdf && k < 1000) {
        k += 1;
        p *= mean / k;
        cdf += p;
      }
      return k;
    }
    // Hörmann's transformed rejection (PTRS), for larger means.
    const slam = Math.sqrt(mean);
    const loglam = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
        -mean + k * loglam - logGamma(k + 1)
      ) {
        return k;
      }
    }
  };
  return {
    uniform,
    uniform32: () => (rng.next() >>> 0) * 2.3283064365386963e-10,
    normal,
    gamma,
    poisson,
    negativeBinomial: (mean, size) =>
      size === undefined || !Number.isFinite(size) ? poisson(mean) : poisson((gamma(size) * mean) / size),
    binomial: (trials, p) => {
      let k = 0;
      for (let i = 0; i < trials; i++) if (uniform() < p) k += 1;
      return k;
    },
  };
}

/** Draws from one fixed count distribution by inverting its tabulated CDF: one uniform and a
 * binary search a draw, for the decision-limit simulations that draw hundreds of thousands. */
export function tabulated(pmf: (k: number) => number, random: Random): () => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 0; total < 1 - 1e-12 && k < 100_000; k++) {
    total += pmf(k);
    cdf.push(total);
  }
  // A guide table: where to start searching for each 1/64th of the range, so a draw takes a
  // step or two whatever the table's length.
  const guide = new Int32Array(65);
  for (let g = 0, k = 0; g <= 64; g++) {
    while (k < cdf.length - 1 && (cdf[k] as number) < (g / 64) * total) k++;
    guide[g] = k;
  }
  const values = Float64Array.from(cdf);
  return () => {
    const u = random.uniform32() * total;
    let k = guide[Math.floor((u / total) * 64)] as number;
    while ((values[k] as number) < u) k++;
    return k;
  };
}

/** ln P(X = k) for a negative binomial (mean, size), or Poisson when size is undefined. */
export function countLogPmf(k: number, mean: number, size: number | undefined): number {
  if (mean <= 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (size === undefined || !Number.isFinite(size)) return k * Math.log(mean) - mean - logGamma(k + 1);
  return (
    logGamma(k + size) -
    logGamma(size) -
    logGamma(k + 1) +
    size * Math.log(size / (size + mean)) +
    k * Math.log(mean / (size + mean))
  );
}
