// A Worker that seals one shopper's Prio3 report inside workerd (issue 21:
// the client runs there too): POST the two aggregators' HPKE configs
// ({ leader, helper }), get back { task, upload } — the task to provision
// and the one upload a device would send to the leader.
import { Recommender } from 'edgerec';
import bundle from 'edgerec/models/online-retail/online-retail.edgerec';

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST the HPKE configs', { status: 405 });
    const rec = await Recommender.load(bundle, { storage: null, reporting: { mechanism: 'prio3' } });
    try {
      rec.importState(JSON.stringify({ version: 1, shopperKey: 'workerd-shopper', session: 0, lastSeen: 0, draws: 0, ledger: { consent: true } }));
      rec.track('add_to_cart', rec.catalog()[0].item);
      rec.shown(rec.nextBestOffer({ slot: 'cart' }));
      const upload = await rec.takeSealedReport(await request.json());
      return Response.json({ task: rec.prio3Task(), upload });
    } catch (err) {
      return Response.json({ error: { code: err.code, message: err.message } }, { status: 400 });
    } finally {
      rec.free();
    }
  },
};
