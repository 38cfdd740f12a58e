//! What both WebAssembly facades (`wasm.rs`, `wasm_prio3.rs`) share, so that
//! each of their methods is one line: an engine error as a JS `Error` with
//! its `code`, a request read from JSON text (malformed text gets the
//! call's own code), and an answer written as JSON text (an answer that
//! cannot be written is INTERNAL, never blamed on the caller's options).

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// What a facade's method returns.
pub type JsResult<T> = std::result::Result<T, JsValue>;

/// A JS `Error` with a `code` property.
pub fn coded(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

pub fn js_error(e: Error) -> JsValue {
    coded(e.code(), &e.to_string())
}

/// An engine result as the facades return it.
pub fn js<T>(result: Result<T>) -> JsResult<T> {
    result.map_err(js_error)
}

/// A request's JSON text as `T`; malformed text is the error `bad` makes.
pub fn read<T: DeserializeOwned>(json: &str, bad: impl FnOnce(String) -> Error) -> Result<T> {
    serde_json::from_str(json).map_err(|e| bad(e.to_string()))
}

/// An engine result as JSON text.
pub fn answer<T: Serialize>(result: Result<T>) -> JsResult<String> {
    js(result.and_then(|value| serde_json::to_string(&value).map_err(Error::unwritable)))
}
