//! edgerec on Fastly Compute. Fastly's JavaScript runtime has no
//! `WebAssembly` global, so the Rust crate is linked in directly; the
//! endpoint itself (`edgerec::api`) is the one the Cloudflare Worker runs,
//! so both answer the same JSON.
//!
//! Compute starts a sandbox per request by default, and loading the store
//! (embedded in the binary) is most of a request's cost, so the app opts in
//! to reusable sandboxes: one load serves a sandbox's requests.
//!
//! With a `release` key in the `edgerec` config store it follows the
//! store's model release (`release.rs`), placing each request by the
//! caller's shopper key; with a `patch` key, the store's catalog patch
//! (`patch.rs`: new products, prices, stock) on whichever bundle serves.

mod patch;
mod release;

use edgerec::api::{error_reply, handle, HttpReply, MAX_BODY_BYTES};
use edgerec::{Error, Store};
use fastly::http::header::CONTENT_LENGTH;
use fastly::http::serve::Serve;
use fastly::{Request, Response};
use patch::Patcher;
use release::Follower;
use std::io::Read;
use std::time::Duration;

/// The shipped default bundle (UCI Online Retail).
static BUNDLE: &[u8] = include_bytes!("../../../models/online-retail/online-retail.edgerec");

/// A sandbox serves at most this many requests, then ends (memory hygiene).
const REQUESTS_PER_SANDBOX: usize = 10_000;
/// How long an idle sandbox waits for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

fn main() {
    let store = Store::load(BUNDLE);
    let mut follower = Follower::configured();
    let mut patcher = Patcher::configured();
    Serve::new().with_max_requests(REQUESTS_PER_SANDBOX).with_timeout(IDLE_TIMEOUT).run(|mut req: Request| {
        let (reply, headers) = match &store {
            Ok(store) => serve(store, follower.as_mut(), patcher.as_mut(), &mut req),
            Err(e) => (error_reply(e), Vec::new()),
        };
        let mut response = Response::from_status(reply.status)
            .with_header("content-type", "application/json; charset=utf-8")
            .with_header("cache-control", "no-store");
        for (name, value) in headers {
            response.set_header(name, value);
        }
        response.with_body(reply.body)
    });
}

type Headers = Vec<(&'static str, String)>;

fn serve(
    embedded: &Store,
    follower: Option<&mut Follower>,
    patcher: Option<&mut Patcher>,
    req: &mut Request,
) -> (HttpReply, Headers) {
    let body = match read_body(req) {
        Ok(body) => body,
        Err(e) => return (error_reply(&e), Vec::new()),
    };
    let (method, path) = (req.get_method_str().to_string(), req.get_path().to_string());
    let (store, mut headers) = match follower {
        None => (embedded, Vec::new()),
        Some(follower) => match follower.serve(shopper_key(req, &body).as_deref(), embedded) {
            Ok(served) => {
                let mut headers = vec![("x-edgerec-model", served.store.model().version.clone())];
                headers.extend(served.release.map(|r| ("x-edgerec-release", r)));
                (served.store, headers)
            }
            Err(e) => return (error_reply(&e), Vec::new()),
        },
    };
    let store = match patcher {
        Some(patcher) => {
            let (store, patched) = patcher.apply(store);
            headers.push(("x-edgerec-patch", if patched { "applied" } else { "none" }.to_string()));
            store
        }
        None => store,
    };
    (handle(store, &method, &path, &body, now_ms()), headers)
}

/// The body, at most `MAX_BODY_BYTES` (declared or streamed).
fn read_body(req: &mut Request) -> Result<Vec<u8>, Error> {
    let too_large = || Error::PayloadTooLarge { limit: MAX_BODY_BYTES };
    let declared = req.get_header_str(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    if declared > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    // Read one byte past the limit to tell "at the limit" from "over it".
    let mut body = Vec::new();
    if req.take_body().take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body).is_err() {
        return Err(Error::InvalidRequest("the request body could not be read".into()));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

/// The caller's shopper key: the `x-edgerec-shopper-key` header, else a
/// JSON body's `shopperKey` (what /v1/offer carries).
fn shopper_key(req: &Request, body: &[u8]) -> Option<String> {
    if let Some(key) = req.get_header_str("x-edgerec-shopper-key") {
        return Some(key.to_string());
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("shopperKey")?.as_str().map(str::to_string)
}

/// The host's clock in ms since the epoch (for caps at `/v1/offer`).
fn now_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
