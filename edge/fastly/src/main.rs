//! edgerec on Fastly Compute. Fastly's JavaScript runtime has no
//! `WebAssembly` global, so the Rust crate is linked in directly; the
//! endpoint itself (`edgerec::api`) is the one the Cloudflare Worker runs,
//! so both answer the same JSON.
//!
//! Compute starts a sandbox per request by default, and loading the store
//! (embedded in the binary) is most of a request's cost, so the app opts in
//! to reusable sandboxes: one load serves a sandbox's requests.

use edgerec::api::{error_reply, handle, HttpReply, MAX_BODY_BYTES};
use edgerec::{Error, Store};
use fastly::http::header::CONTENT_LENGTH;
use fastly::http::serve::Serve;
use fastly::{Request, Response};
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
    Serve::new().with_max_requests(REQUESTS_PER_SANDBOX).with_timeout(IDLE_TIMEOUT).run(|mut req: Request| {
        let reply = match &store {
            Ok(store) => serve(store, &mut req),
            Err(e) => error_reply(e),
        };
        Response::from_status(reply.status)
            .with_header("content-type", "application/json; charset=utf-8")
            .with_header("cache-control", "no-store")
            .with_body(reply.body)
    });
}

fn serve(store: &Store, req: &mut Request) -> HttpReply {
    let too_large = || error_reply(&Error::PayloadTooLarge { limit: MAX_BODY_BYTES });
    let declared = req.get_header_str(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    if declared > MAX_BODY_BYTES as u64 {
        return too_large();
    }
    // Read one byte past the limit to tell "at the limit" from "over it".
    let mut body = Vec::new();
    if req.take_body().take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut body).is_err() {
        return error_reply(&Error::InvalidRequest("the request body could not be read".into()));
    }
    if body.len() > MAX_BODY_BYTES {
        return too_large();
    }
    handle(store, req.get_method_str(), req.get_path(), &body, now_ms())
}

/// The host's clock in ms since the epoch (for caps at `/v1/offer`).
fn now_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
