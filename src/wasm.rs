//! The WebAssembly facade: the only file that knows about JavaScript.
//! Errors cross as JS `Error`s with a stable `code` property; values cross
//! as plain JS objects.

use crate::error::Error;
use crate::rank::RecommendOptions;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code()),
    );
    err.into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(Error::InvalidOptions(format!("cannot convert result: {e}"))))
}

/// An event as a storefront sends it: `{ type: "view", item: "85123A" }`.
#[derive(Deserialize)]
struct JsEvent {
    #[serde(rename = "type")]
    kind: String,
    item: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info<'a> {
    format_version: u32,
    item_count: usize,
    dim: usize,
    max_seq_len: usize,
    model_card: &'a crate::bundle::ModelCard,
}

#[wasm_bindgen]
pub struct Engine {
    inner: crate::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Load and validate a bundle; throws an Error with a `code` if it is unusable.
    pub fn load(bundle: &[u8]) -> Result<Engine, JsValue> {
        crate::Engine::load(bundle)
            .map(|inner| Engine { inner })
            .map_err(js_error)
    }

    /// Record `{type, item}`. Returns false when the item is unknown
    /// (skipped and counted); throws INVALID_EVENT on a malformed event.
    pub fn track(&mut self, event: JsValue) -> Result<bool, JsValue> {
        let ev: JsEvent = serde_wasm_bindgen::from_value(event).map_err(|e| {
            js_error(Error::InvalidEvent(format!(
                "expected {{ type: string, item: string }}: {e}"
            )))
        })?;
        self.inner
            .track(&ev.kind, &ev.item)
            .map(|t| t == crate::Tracked::Known)
            .map_err(js_error)
    }

    /// `{k?, anchor?, exclude?}` → `{items: [...], stats}`.
    pub fn recommend(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let opts: RecommendOptions = if options.is_undefined() || options.is_null() {
            RecommendOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| js_error(Error::InvalidOptions(e.to_string())))?
        };
        to_js(&self.inner.recommend(&opts).map_err(js_error)?)
    }

    /// Start a new session.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// The bundle's manifest summary and model card.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let m = &self.inner.model().manifest;
        to_js(&Info {
            format_version: m.format_version,
            item_count: m.item_count,
            dim: m.dim,
            max_seq_len: m.max_seq_len,
            model_card: &m.model_card,
        })
    }

    /// The bundle's default offer policy (JSON text).
    #[wasm_bindgen(js_name = policyJson)]
    pub fn policy_json(&self) -> String {
        self.inner.model().policy_json.clone()
    }
}
