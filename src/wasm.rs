//! The engine's WebAssembly facade (with `wasm_prio3.rs` and their shared
//! `interop.rs`, the only files that know about JavaScript): each method
//! one line over the engine. Errors cross as JS `Error`s with a stable
//! `code` property; requests and answers as JSON text.

use crate::error::{Error, Result};
use crate::interop::{answer, js, js_error, read, JsResult};
use serde::Serialize;
use wasm_bindgen::prelude::*;

unsafe extern "C" {
    /// Synthesised by the linker: runs static constructors (tract registers
    /// its kernels through `inventory`).
    fn __wasm_call_ctors();
}

/// Runs once when wasm-bindgen instantiates the module. Calling the
/// constructors from an export tells the linker this is a reactor-style
/// module; otherwise it wraps *every* export in a constructor call, which
/// measured at ~3 µs on each call and 2 ms on each recommendation.
#[wasm_bindgen(start)]
fn start() {
    // SAFETY: the constructors are idempotent and run before any other export.
    unsafe { __wasm_call_ctors() }
}

/// A value as a plain JS object (for `info`, read field by field).
fn to_js<T: Serialize>(value: &T) -> JsResult<JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_error(Error::unwritable(e)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    /// The bundle's version id: `sha256:` of its bytes.
    version: &'a str,
    format_version: u32,
    item_count: usize,
    dim: usize,
    max_seq_len: usize,
    model_card: &'a crate::bundle::ModelCard,
    /// The bundle's own blend (`edgerec tune`'s); a policy's `ranking` overrides it.
    blend: crate::score::BlendWeights,
    /// The shopper's side of the store's model release, if it follows one.
    release: Option<&'a crate::release::ReleasePlacement>,
}

/// The shopper's place in a release file (`release.json` text), as JSON
/// text (`Placed`); INVALID_RELEASE or RELEASE_MISMATCH when the file is bad.
#[wasm_bindgen(js_name = placeInRelease)]
pub fn place_in_release(release_json: &str, shopper_key: &str) -> JsResult<String> {
    answer(crate::release::Release::parse(release_json).and_then(|r| r.placed(shopper_key)))
}

#[wasm_bindgen]
pub struct HttpReply {
    pub status: u16,
    body: String,
}

#[wasm_bindgen]
impl HttpReply {
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> String {
        self.body.clone()
    }
}

/// Whether a tracked event's item is in the catalog.
fn known(tracked: crate::Tracked) -> bool {
    tracked == crate::Tracked::Known
}

/// An event's type and item id, which must both be strings.
fn event_strings(kind: JsValue, item: JsValue) -> Result<(String, String)> {
    match (kind.as_string(), item.as_string()) {
        (Some(kind), Some(item)) => Ok((kind, item)),
        _ => Err(Error::InvalidEvent("event type and item id must be strings".into())),
    }
}

#[wasm_bindgen]
pub struct Engine {
    inner: crate::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Load and validate a bundle; throws an Error with a `code` if it is unusable.
    pub fn load(bundle: &[u8]) -> JsResult<Engine> {
        js(crate::Engine::load(bundle).map(|inner| Engine { inner }))
    }

    /// Record an event at host time `now` (ms). Returns false when the
    /// item is unknown (skipped and counted); throws INVALID_EVENT on a
    /// malformed event. Plain string arguments keep this hot path free of
    /// object conversion.
    pub fn track(&mut self, kind: JsValue, item: JsValue, now: f64) -> JsResult<bool> {
        js(event_strings(kind, item).and_then(|(kind, item)| self.inner.track_at(&kind, &item, now)).map(known))
    }

    /// Replay a stored event (a reload, a restart): it rebuilds the session
    /// and counts nothing, since its outcomes were counted when it happened.
    pub fn replay(&mut self, kind: JsValue, item: JsValue) -> JsResult<bool> {
        js(event_strings(kind, item).and_then(|(kind, item)| self.inner.track(&kind, &item)).map(known))
    }

    /// `{slot, anchor?, segments?}` as JSON text → the decision at host
    /// time `now` as JSON text, its `trace` left empty and kept in the
    /// engine under the decision's `id` for `traceJson` (a trace crosses
    /// only when read: building its string on every call tripled the p99).
    #[wasm_bindgen(js_name = nextBestOfferJson)]
    pub fn next_best_offer_json(&mut self, request_json: &str, now: f64) -> JsResult<String> {
        answer(read(request_json, Error::InvalidOptions).and_then(|req| self.inner.next_best_offer_kept(&req, now)))
    }

    /// Decision `id` is on the shopper's screen; true when that counted an
    /// impression (false: no offer, or already counted in this page view).
    pub fn shown(&mut self, id: u32, now: f64) -> JsResult<bool> {
        js(self.inner.shown(id, now))
    }

    /// A kept decision trace as JSON text; undefined once it is older than
    /// the last 64 decisions.
    #[wasm_bindgen(js_name = traceJson)]
    pub fn trace_json(&self, id: u32) -> Option<String> {
        serde_json::to_string(self.inner.trace(id)?).ok()
    }

    /// Traps inside WebAssembly with this engine borrowed, as a bug would:
    /// the JS wrapper's restart is tested with it (not part of the API).
    #[wasm_bindgen(js_name = __forceTrap)]
    pub fn force_trap(&mut self) {
        std::process::abort()
    }

    /// `{lines?: [{item, quantity?}]}` as JSON text → the cart priced with
    /// the discounts the shopper was shown, as JSON text.
    #[wasm_bindgen(js_name = priceCartJson)]
    pub fn price_cart_json(&self, request_json: &str, now: f64) -> JsResult<String> {
        answer(read(request_json, Error::InvalidOptions).and_then(|req| self.inner.price_cart(&req, now)))
    }

    /// `{slot, offer, outcome: "click" | "dismiss" | "purchase"}` as JSON text.
    #[wasm_bindgen(js_name = feedbackJson)]
    pub fn feedback_json(&mut self, feedback_json: &str, now: f64) -> JsResult<()> {
        js(read(feedback_json, Error::InvalidOptions).and_then(|fb| self.inner.feedback(&fb, now)))
    }

    /// Check a policy (JSON text) and make it the active one; returns its id.
    #[wasm_bindgen(js_name = usePolicy)]
    pub fn use_policy(&mut self, policy_json: &str) -> JsResult<String> {
        js(self.inner.use_policy(policy_json).map(str::to_string))
    }

    /// The store's items as they are now (JSON text: `[{ id, price,
    /// salePrice, inStock, margin, title, category, brand, url, image, row }]`);
    /// answers `{ changed, added, placedFromContent }` as JSON text.
    #[wasm_bindgen(js_name = updateItems)]
    pub fn update_items(&mut self, updates_json: &str) -> JsResult<String> {
        answer(self.inner.update_items(updates_json))
    }

    /// A catalog patch (JSON text from `edgerec patch`) for this bundle;
    /// answers as `updateItems` does. PATCH_MISMATCH: made for another bundle.
    #[wasm_bindgen(js_name = applyPatch)]
    pub fn apply_patch(&mut self, patch_json: &str) -> JsResult<String> {
        answer(self.inner.apply_patch(patch_json))
    }

    /// Bandit priors from aggregates: `{"offerId": {"shown", "taken"}}`.
    #[wasm_bindgen(js_name = loadPriors)]
    pub fn load_priors(&mut self, priors_json: &str) -> JsResult<usize> {
        js(self.inner.load_priors(priors_json))
    }

    /// Bandit priors from the collector's released aggregates (`GET
    /// /v1/aggregates` as JSON text); returns the offers seeded.
    #[wasm_bindgen(js_name = loadAggregates)]
    pub fn load_aggregates(&mut self, aggregates_json: &str) -> JsResult<usize> {
        js(self.inner.load_aggregates(aggregates_json))
    }

    /// The shopper's choice about aggregate reports (false erases what is pending).
    #[wasm_bindgen(js_name = setConsent)]
    pub fn set_consent(&mut self, consent: bool) {
        self.inner.set_consent(consent);
    }

    /// The store's `{epsilon?, epsilonPerDay?}` for reports, as JSON text.
    #[wasm_bindgen(js_name = setReporting)]
    pub fn set_reporting(&mut self, settings_json: &str) -> JsResult<()> {
        js(self.inner.set_reporting(settings_json))
    }

    /// Consent, budget and why no report would be made, as JSON text;
    /// INVALID_OPTIONS for a clock outside years 0–9999.
    #[wasm_bindgen(js_name = privacyJson)]
    pub fn privacy_json(&mut self, now: f64) -> JsResult<String> {
        answer(self.inner.privacy(now))
    }

    /// The next report's exact bytes without taking it (undefined: none).
    #[wasm_bindgen(js_name = previewReport)]
    pub fn preview_report(&mut self, now: f64) -> JsResult<Option<String>> {
        js(self.inner.preview_report(now))
    }

    /// The Prio3 task of this device's reports, as JSON text.
    #[wasm_bindgen(js_name = prio3Task)]
    pub fn prio3_task(&self) -> JsResult<String> {
        answer(self.inner.prio3_task())
    }

    /// The next report, its ε spent (undefined: none to make).
    #[wasm_bindgen(js_name = takeReport)]
    pub fn take_report(&mut self, now: f64) -> JsResult<Option<String>> {
        js(self.inner.take_report(now))
    }

    /// The shopper's decisioning state (caps, bandit) as JSON text.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> String {
        self.inner.export_state()
    }

    /// Restore exported state; throws INVALID_STATE and changes nothing if bad.
    #[wasm_bindgen(js_name = importState)]
    pub fn import_state(&mut self, state_json: &str) -> JsResult<()> {
        js(self.inner.import_state(state_json))
    }

    /// Fresh decisioning state for this shopper key.
    #[wasm_bindgen(js_name = setShopperKey)]
    pub fn set_shopper_key(&mut self, key: &str) -> JsResult<()> {
        js(self.inner.set_shopper_key(key))
    }

    /// `{k?, anchor?, exclude?}` as JSON text → `{items: [...], stats}` as
    /// JSON text. Text crosses the boundary several times faster than
    /// building JS objects field by field (measured: 0.35 ms per call).
    #[wasm_bindgen(js_name = recommendJson)]
    pub fn recommend_json(&self, options_json: &str) -> JsResult<String> {
        answer(read(options_json, Error::InvalidOptions).and_then(|opts| self.inner.recommend(&opts)))
    }

    /// `{k?, anchor?, exclude?, slots?}` as JSON text → every slot of a
    /// page (recommended, similar, boughtTogether, completeTheSet, offer)
    /// for the live session, as JSON text.
    #[wasm_bindgen(js_name = pageJson)]
    pub fn page_json(&self, request_json: &str) -> JsResult<String> {
        answer(read(request_json, Error::InvalidOptions).and_then(|req| self.inner.page(&req)))
    }

    /// The stateless HTTP endpoint (`crate::api`): never throws, every
    /// outcome is a status and a JSON body.
    #[wasm_bindgen(js_name = handleHttp)]
    pub fn handle_http(&self, method: &str, path: &str, body: &[u8], now: f64) -> HttpReply {
        let reply = crate::api::handle(self.inner.store(), method, path, body, now);
        HttpReply { status: reply.status, body: reply.body }
    }

    /// Every item of the bundle's catalog, most popular first, as JSON
    /// text: `[{item, title, price, category, inStock}]`.
    #[wasm_bindgen(js_name = catalogJson)]
    pub fn catalog_json(&self) -> JsResult<String> {
        answer(Ok(self.inner.model().catalog_entries()))
    }

    /// Start a new session.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// The bundle's manifest summary and model card.
    pub fn info(&self) -> JsResult<JsValue> {
        let m = &self.inner.model().manifest;
        to_js(&Info {
            format_version: m.format_version,
            item_count: m.item_count,
            dim: m.dim,
            max_seq_len: m.max_seq_len,
            model_card: &m.model_card,
            blend: m.blend.unwrap_or_default(),
            version: &self.inner.model().version,
            release: self.inner.release(),
        })
    }

    /// RELEASE_MISMATCH unless this is the bundle `bundle_ref_json` (a
    /// release file's `current` or `candidate`) names.
    #[wasm_bindgen(js_name = checkReleaseBundle)]
    pub fn check_release_bundle(&self, bundle_ref_json: &str) -> JsResult<()> {
        js(read(bundle_ref_json, Error::InvalidRelease)
            .and_then(|r: crate::release::BundleRef| r.check_loaded(self.inner.model())))
    }

    /// Follow the model release from the shopper's placement (JSON text
    /// from `placeInRelease`).
    #[wasm_bindgen(js_name = joinRelease)]
    pub fn join_release(&mut self, placement_json: &str) -> JsResult<()> {
        js(read(placement_json, Error::InvalidRelease).and_then(|p| self.inner.join_release(p)))
    }

    /// The active policy's id.
    #[wasm_bindgen(js_name = policyId)]
    pub fn policy_id(&self) -> String {
        self.inner.policy().id.clone()
    }

    /// The bundle's default offer policy (JSON text).
    #[wasm_bindgen(js_name = policyJson)]
    pub fn policy_json(&self) -> String {
        self.inner.model().policy_json.clone()
    }
}
