// Order statistics for timings (the machines are noisy: medians and tails, not means).

/** The `q` quantile of `xs` (nearest rank, 0 <= q <= 1). */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export const median = (xs) => quantile(xs, 0.5);
