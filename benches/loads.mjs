// Load a bundle `n` times (freeing the previous one), timing each: the
// recommender of the last load and the times, in ms.
export async function timedLoads(Recommender, bytes, n) {
  const loads = [];
  let rec;
  for (let i = 0; i < n; i++) {
    rec?.free();
    const t0 = performance.now();
    rec = await Recommender.load(bytes);
    loads.push(performance.now() - t0);
  }
  return { rec, loads };
}
