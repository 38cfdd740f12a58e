//! The Prio3 module's facade (issue 21): a second WebAssembly module built
//! from this crate with the `prio3-module` feature, so that the shopper's
//! first download carries no Prio3 code. A device loads it when it seals a
//! report; the leader and helper Workers load it to check and sum shares.
//! Errors cross as JS `Error`s with a `code`; bytes as `Uint8Array`s.

use crate::error::{Error, Result};
use crate::interop::{answer, coded, js, js_error, read, JsResult};
use crate::prio3::seal::{HpkeConfig, HpkeKeypair};
use crate::prio3::service::{checksum, HelpRequest, Service};
use crate::prio3::task::{Batch, Role, Task};
use crate::prio3::upload::{seal_upload, Measured, Refusal};
use crate::report::noise::SecureRandom;
use wasm_bindgen::prelude::*;

fn refused(r: Refusal) -> JsValue {
    coded(r.code(), &r.message())
}

/// A request's JSON text; malformed, INVALID_OPTIONS naming `what` it is.
fn parse<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T> {
    read(json, |e| Error::InvalidOptions(format!("{what}: {e}")))
}

/// The device's step: the engine's measurement (`takeReport()` under
/// `prio3`) sharded and sealed to the two aggregators' HPKE configs; the
/// upload's JSON.
#[wasm_bindgen(js_name = sealReport)]
pub fn seal_report(measured_json: &str, leader_config: &str, helper_config: &str) -> JsResult<String> {
    let measured: Measured = js(parse(measured_json, "prio3 measurement"))?;
    let leader: HpkeConfig = js(parse(leader_config, "leader HPKE config"))?;
    let helper: HpkeConfig = js(parse(helper_config, "helper HPKE config"))?;
    answer(seal_upload(&measured, &leader, &helper))
}

/// Checks an aggregator's HPKE config before a report is taken for it.
#[wasm_bindgen(js_name = checkConfig)]
pub fn check_config(config: &str) -> JsResult<()> {
    let config: HpkeConfig = js(parse(config, "HPKE config"))?;
    let key_ok = crate::prio3::seal::unhex(&config.public_key).is_some_and(|k| k.len() == 32);
    if key_ok {
        Ok(())
    } else {
        Err(js_error(Error::InvalidOptions(format!("HPKE config {}: the public key is 32 bytes of hex", config.id))))
    }
}

/// A new HPKE keypair for an aggregator, `{ config, privateKey }` as JSON.
#[wasm_bindgen(js_name = generateKeypair)]
pub fn generate_keypair(id: u8) -> JsResult<String> {
    answer(HpkeKeypair::generate(id, &mut SecureRandom::new()))
}

/// A task's id, after checking it.
#[wasm_bindgen(js_name = taskId)]
pub fn task_id(task_json: &str) -> JsResult<String> {
    js(Task::parse(task_json).map(|t| t.id()))
}

/// DAP's batch checksum after adding `ids` (a JSON array) to `previous`.
#[wasm_bindgen(js_name = batchChecksum)]
pub fn batch_checksum(previous: &str, ids_json: &str) -> JsResult<String> {
    js(parse(ids_json, "report ids").map(|ids: Vec<String>| checksum(previous, &ids)))
}

/// The released aggregates (the JSON every reader takes) of one batch
/// from the two aggregators' noised shares.
#[wasm_bindgen(js_name = collectBatch)]
pub fn collect_batch(
    task_json: &str,
    leader: &[u8],
    helper: &[u8],
    day: String,
    model: String,
    reports: u32,
) -> JsResult<String> {
    let batch = Batch { day, model: Some(model), reports: u64::from(reports) };
    answer(Task::parse(task_json).and_then(|task| task.collect(leader, helper, &batch)))
}

/// One aggregator of one task.
#[wasm_bindgen]
pub struct Prio3Aggregator {
    service: Service,
    rng: SecureRandom,
}

#[wasm_bindgen]
impl Prio3Aggregator {
    /// `role`: "leader" or "helper"; `keys`: a JSON array of keypairs, the
    /// advertised one first.
    #[wasm_bindgen(constructor)]
    pub fn new(task_json: &str, role: &str, verify_key_hex: &str, keys_json: &str) -> JsResult<Prio3Aggregator> {
        let role = match role {
            "leader" => Role::Leader,
            "helper" => Role::Helper,
            _ => return Err(js_error(Error::InvalidOptions("role is \"leader\" or \"helper\"".into()))),
        };
        let service = js(Service::new(task_json, role, verify_key_hex, keys_json))?;
        Ok(Prio3Aggregator { service, rng: SecureRandom::new() })
    }

    #[wasm_bindgen(js_name = taskId)]
    pub fn task_id(&self) -> String {
        self.service.task_id().to_string()
    }

    /// The HPKE config to advertise, as JSON.
    #[wasm_bindgen(js_name = hpkeConfig)]
    pub fn hpke_config(&self) -> JsResult<String> {
        answer(Ok(self.service.config()))
    }

    /// The leader on an upload: `{ id, day, model, public, share, helper }`
    /// (bytes base64url; `helper` still sealed), or a coded refusal.
    pub fn open(&self, upload_json: &str) -> JsResult<String> {
        let o = self.service.open(upload_json).map_err(refused)?;
        let b64 = crate::prio3::seal::b64;
        Ok(serde_json::json!({
            "id": o.id, "day": o.day, "model": o.model,
            "public": b64(&o.public), "share": b64(&o.share), "helper": o.helper,
        })
        .to_string())
    }

    /// The leader's first step: `{ verifier }` or `{ rejected }`.
    pub fn start(&mut self, id: &str, public_b64: &str, share_b64: &str) -> String {
        let unb64 = crate::prio3::seal::unb64;
        let result = match (unb64(public_b64), unb64(share_b64)) {
            (Some(public), Some(share)) => self.service.start(id, &public, &share),
            _ => Err("malformed"),
        };
        match result {
            Ok(verifier) => serde_json::json!({ "verifier": verifier }),
            Err(code) => serde_json::json!({ "rejected": code }),
        }
        .to_string()
    }

    /// The helper's step on one report (a `HelpRequest`'s JSON): `{ id,
    /// message }` or `{ id, rejected }`.
    pub fn help(&mut self, request_json: &str) -> JsResult<String> {
        answer(parse(request_json, "aggregation request").map(|request: HelpRequest| self.service.help(&request)))
    }

    /// The leader's last step: null, or the rejection's code.
    pub fn finish(&mut self, id: &str, message: &str) -> Option<String> {
        self.service.finish(id, message).err().map(str::to_string)
    }

    /// Drops what a report of a failed job left in memory.
    pub fn forget(&mut self, id: &str) {
        self.service.forget(id);
    }

    /// A stored aggregate share (undefined: none yet) plus the output
    /// shares of `ids` (a JSON array).
    pub fn merge(&mut self, stored: Option<Vec<u8>>, ids_json: &str) -> JsResult<Vec<u8>> {
        js(parse(ids_json, "report ids").and_then(|ids: Vec<String>| self.service.merge(stored.as_deref(), &ids)))
    }

    /// The aggregate share with this aggregator's noise, for collection.
    pub fn noised(&mut self, stored: Option<Vec<u8>>) -> JsResult<Vec<u8>> {
        js(self.service.noised(stored.as_deref(), &mut self.rng))
    }
}
