// What both comparison pages share: the session and how the answer is shown.
export const SESSION = ['85123A', '22423', '47566'];

export function show(ids) {
  const list = document.getElementById('recommended');
  list.replaceChildren(...ids.map((id) => Object.assign(document.createElement('li'), { className: 'card', textContent: id })));
  window.edgerecDemo = { firstRecommendationMs: performance.now() };
}
