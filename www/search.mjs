// Catalog search a shopper can use, in the page and without a server: the
// query is split into words, case and plural endings are ignored, and every
// word must start a word of the title ("retro" finds "Retrospot"); titles
// that match words whole come first, then the catalog's own order.

/** A word without its English plural ending: mugs → mug, boxes → box, cherries → cherry. */
export function stem(word) {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && /(ch|sh|x|ss|z)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** The stemmed words of a text, lower-cased, split at anything not a letter or digit. */
export function words(text) {
  return String(text).toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).map(stem);
}

/**
 * The products whose title holds every word of `query` (or whose id is the
 * query), best first. Title words are computed once per product and kept.
 */
export function search(products, query) {
  const wanted = words(query);
  if (!wanted.length) return products;
  const id = String(query).trim().toLowerCase();
  const hits = [];
  products.forEach((p, order) => {
    if (p.item.toLowerCase() === id) {
      hits.push({ p, whole: Infinity, order });
      return;
    }
    const title = titleWords(p);
    let whole = 0;
    for (const w of wanted) {
      if (title.includes(w)) whole += 1;
      else if (!title.some((t) => t.startsWith(w))) return;
    }
    hits.push({ p, whole, order });
  });
  return hits.sort((a, b) => b.whole - a.whole || a.order - b.order).map((h) => h.p);
}

const cache = new WeakMap();
function titleWords(product) {
  let w = cache.get(product);
  if (!w) cache.set(product, (w = words(product.title)));
  return w;
}

/** "1 product matches", "3 products match", "No products match". */
export function matchCount(n, query) {
  if (n === 0) return `No products match “${query}”`;
  return n === 1 ? `1 product matches “${query}”` : `${n.toLocaleString('en-GB')} products match “${query}”`;
}
