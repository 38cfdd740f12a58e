// Pounds as en-GB writes them (£1,234.50), for the storefront. Not
// Intl.NumberFormat: building one (ICU's locale data) was an 80-150 ms
// main-thread task on the phone profile, the page's longest (benches/page.mjs);
// tests/js/money.test.mjs checks this gives what Intl gives.
export function formatPounds(pounds) {
  // Whole pence from the decimal the price was written as (3.005 → 301, as Intl rounds).
  const pence = Math.round(Number((pounds * 100).toPrecision(12)));
  const whole = String(Math.floor(pence / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `£${whole}.${String(pence % 100).padStart(2, '0')}`;
}
