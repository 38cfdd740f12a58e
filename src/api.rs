//! The HTTP endpoint shared by every edge runtime: the Cloudflare Worker
//! (through the WASM facade) and the Fastly app (linking this crate) hand
//! it method, path and body, and send back exactly the status and JSON it
//! returns, so both answer the same JSON.
//!
//! `POST /v1/recommend`: the session's events in, the page's slots out.
//! `POST /v1/offer`: the session's events and the shopper's decisioning
//! state in, one decision (offer, trace) and the updated state out.
//! The server keeps no state: events and state travel with each request.

use crate::decide::cart::LineIn;
use crate::decide::context::RawContext;
use crate::decide::state::check_key;
use crate::decide::state::Outcome;
use crate::decide::{record_feedback, record_shown, Decision, Feedback, OfferRequest};
use crate::error::{Error, Result};
use crate::page::{PageRequest, PageSlot};
use crate::session::{EventKind, Session};
use crate::shopper::ShopperData;
use crate::store::{Store, Tracked};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Largest request body accepted (a 500-event session is ~25 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most events one request may carry (the session keeps the last 64 anyway).
pub const MAX_EVENTS: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecommendRequest {
    #[serde(default)]
    events: Vec<EventIn>,
    /// Skip events on items the bundle does not know instead of failing
    /// (for stores whose catalog runs ahead of the bundle).
    #[serde(default)]
    skip_unknown: bool,
    k: Option<usize>,
    anchor: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
    slots: Option<Vec<PageSlot>>,
    #[serde(default)]
    similar_any_kind: bool,
    filter: Option<crate::filter::ItemFilter>,
    promotion: Option<crate::filter::Promotion>,
    /// The host's item updates for this request alone (prices, stock, new
    /// products: `ItemUpdate`s), applied to a copy of the store.
    items: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OfferApiRequest {
    #[serde(default)]
    events: Vec<EventIn>,
    #[serde(default)]
    skip_unknown: bool,
    slot: String,
    /// A policy the engine holds (the bundle's when absent).
    policy: Option<String>,
    shopper_key: String,
    /// What the previous answer returned (caps, bandit draws); a first
    /// visit sends none.
    state: Option<serde_json::Value>,
    /// Host time in ms; the server's clock when absent.
    now: Option<f64>,
    anchor: Option<String>,
    #[serde(default)]
    segments: Vec<String>,
    /// The host's context (`channel`, `device`…), in the policy's declared fields.
    #[serde(default)]
    context: RawContext,
    /// Whether the answer goes on the shopper's screen (the default: a
    /// stateless answer cannot be marked shown later); false for previews.
    #[serde(default = "yes")]
    shown: bool,
    /// Item ids the offer must not show, and which items it may.
    #[serde(default)]
    exclude: Vec<String>,
    filter: Option<crate::filter::ItemFilter>,
    /// The host's item updates for this request alone (prices, stock, new
    /// products: `ItemUpdate`s), applied to a copy of the store.
    items: Option<serde_json::Value>,
}

fn yes() -> bool {
    true
}

/// `POST /v1/cart`: the cart the events built (or `lines`), priced with
/// the discounts the shopper's state shows were offered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CartApiRequest {
    #[serde(default)]
    events: Vec<EventIn>,
    #[serde(default)]
    skip_unknown: bool,
    policy: Option<String>,
    shopper_key: String,
    state: Option<serde_json::Value>,
    now: Option<f64>,
    lines: Option<Vec<LineIn>>,
    /// The host's item updates for this request alone (prices, stock, new
    /// products: `ItemUpdate`s), applied to a copy of the store.
    items: Option<serde_json::Value>,
}

/// `POST /v1/feedback`: the shopper's answer to an offer they were shown
/// (taken in a chat, clicked in an email), into the state the caller keeps.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FeedbackApiRequest {
    slot: String,
    offer: String,
    outcome: Outcome,
    policy: Option<String>,
    shopper_key: String,
    state: Option<serde_json::Value>,
    now: Option<f64>,
}

#[derive(Serialize)]
struct StateReply {
    state: serde_json::Value,
}

#[derive(Serialize)]
struct OfferReply {
    decision: Decision,
    state: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    #[serde(rename = "type")]
    kind: String,
    item: String,
    /// Accepted and ignored: order is what the session model reads.
    #[allow(dead_code)]
    ts: Option<f64>,
}

/// What the runtime sends back.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    pub status: u16,
    /// JSON text.
    pub body: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

/// The HTTP status an error maps to: the caller's fault is a 4xx.
pub fn status_of(e: &Error) -> u16 {
    match e {
        Error::InvalidEvent(_)
        | Error::InvalidOptions(_)
        | Error::InvalidRequest(_)
        | Error::InvalidInput(_)
        | Error::InvalidPolicy { .. }
        | Error::InvalidItem { .. }
        | Error::InvalidState(_) => 400,
        Error::PayloadTooLarge { .. } => 413,
        Error::UnknownItem(_) | Error::UnknownPolicy(_) => 422,
        _ => 500,
    }
}

pub fn error_reply(e: &Error) -> HttpReply {
    let body = ErrorBody { error: ErrorDetail { code: e.code(), message: e.to_string() } };
    HttpReply { status: status_of(e), body: serde_json::to_string(&body).unwrap_or_default() }
}

fn plain_error(status: u16, code: &str, message: String) -> HttpReply {
    let body = ErrorBody { error: ErrorDetail { code, message } };
    HttpReply { status, body: serde_json::to_string(&body).unwrap_or_default() }
}

/// Route one request; `now` is the host's clock (ms since the epoch).
pub fn handle(store: &Store, method: &str, path: &str, body: &[u8], now: f64) -> HttpReply {
    let reply = |r: Result<String>| match r {
        Ok(json) => HttpReply { status: 200, body: json },
        Err(e) => error_reply(&e),
    };
    match (method, path) {
        ("POST", "/v1/recommend") => reply(recommend(store, body)),
        ("POST", "/v1/offer") => reply(offer(store, body, now)),
        ("POST", "/v1/cart") => reply(cart(store, body, now)),
        ("POST", "/v1/feedback") => reply(feedback(store, body, now)),
        ("GET", "/v1/health") => {
            let m = &store.model().manifest;
            let body = serde_json::json!({ "ok": true, "items": m.item_count, "dataset": m.model_card.dataset });
            HttpReply { status: 200, body: body.to_string() }
        }
        (_, "/v1/recommend" | "/v1/offer" | "/v1/cart" | "/v1/feedback") => {
            plain_error(405, "METHOD_NOT_ALLOWED", format!("use POST for {path}"))
        }
        (_, "/v1/health") => plain_error(405, "METHOD_NOT_ALLOWED", "use GET for /v1/health".into()),
        _ => plain_error(404, "NOT_FOUND", format!("no route {method} {}", path.chars().take(80).collect::<String>())),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    // Read as text, as the module's own calls are: one copy of each
    // request type's serde code in the module, not one per reader.
    let text = std::str::from_utf8(body).map_err(|e| Error::InvalidRequest(format!("the body is not UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// The store as one request sees it: with the request's own item updates
/// (the host's live prices, stock and new products) on a copy, all or
/// none; the shared store is never changed by a request.
fn with_items(store: &Store, items: Option<serde_json::Value>) -> Result<Cow<'_, Store>> {
    let Some(items) = items else { return Ok(Cow::Borrowed(store)) };
    let updates = crate::live::parse_update_values(items)?;
    let mut own = store.clone();
    own.update_items(&updates)?;
    Ok(Cow::Owned(own))
}

/// The session the request's events describe.
fn replay(store: &Store, events: &[EventIn], skip_unknown: bool) -> Result<Session> {
    if events.len() > MAX_EVENTS {
        return Err(Error::InvalidRequest(format!("{} events is more than the {MAX_EVENTS} accepted", events.len())));
    }
    let mut session = Session::new();
    let mut unknown = Vec::new();
    for e in events {
        if store.record_event(&mut session, EventKind::parse(&e.kind)?, &e.item)? == Tracked::UnknownItem {
            unknown.push(e.item.clone());
        }
    }
    if !unknown.is_empty() && !skip_unknown {
        return Err(Error::UnknownItem(unknown));
    }
    Ok(session)
}

fn recommend(store: &Store, body: &[u8]) -> Result<String> {
    let req: RecommendRequest = parse_body(body)?;
    let store = &*with_items(store, req.items)?;
    let session = replay(store, &req.events, req.skip_unknown)?;
    let page_req = PageRequest {
        k: req.k,
        anchor: req.anchor,
        exclude: req.exclude,
        slots: req.slots,
        similar_any_kind: req.similar_any_kind,
        filter: req.filter,
        promotion: req.promotion,
    };
    let page = store.page(&session, &page_req)?;
    written(&page)
}

fn offer(store: &Store, body: &[u8], host_now: f64) -> Result<String> {
    let req: OfferApiRequest = parse_body(body)?;
    let store = &*with_items(store, req.items)?;
    let session = replay(store, &req.events, req.skip_unknown)?;
    let mut shopper = shopper_data(&req.shopper_key, req.state)?;
    let offer_req = OfferRequest {
        slot: req.slot,
        anchor: req.anchor,
        segments: req.segments,
        context: req.context,
        exclude: req.exclude,
        filter: req.filter,
    };
    let now = req.now.unwrap_or(host_now);
    let decision = store.decide(req.policy.as_deref(), &session, &mut shopper.state, &offer_req, now)?;
    if req.shown {
        record_shown(&mut shopper.state, &decision.showing, now)?;
    }
    written(&OfferReply { decision, state: shopper.to_json() })
}

fn feedback(store: &Store, body: &[u8], host_now: f64) -> Result<String> {
    let req: FeedbackApiRequest = parse_body(body)?;
    let mut shopper = shopper_data(&req.shopper_key, req.state)?;
    let policy = store.policy_by_id(req.policy.as_deref())?;
    let fb = Feedback { slot: req.slot, offer: req.offer, outcome: req.outcome };
    record_feedback(policy, &mut shopper.state, &fb, req.now.unwrap_or(host_now))?;
    written(&StateReply { state: shopper.to_json() })
}

/// The state a request carries, which must be `shopper_key`'s (a first
/// visit carries none). Its report ledger travels back untouched.
fn shopper_data(shopper_key: &str, state: Option<serde_json::Value>) -> Result<ShopperData> {
    check_key(shopper_key).map_err(Error::InvalidRequest)?;
    let Some(v) = state else { return Ok(ShopperData::new(shopper_key)) };
    let data = ShopperData::from_json(v)?;
    if data.state.shopper_key != shopper_key {
        return Err(Error::InvalidState("the state belongs to another shopper key".into()));
    }
    Ok(data)
}

fn cart(store: &Store, body: &[u8], host_now: f64) -> Result<String> {
    let req: CartApiRequest = parse_body(body)?;
    let store = &*with_items(store, req.items)?;
    let session = replay(store, &req.events, req.skip_unknown)?;
    let shopper = shopper_data(&req.shopper_key, req.state)?;
    let now = req.now.unwrap_or(host_now);
    let priced = store.price_cart(req.policy.as_deref(), &session, &shopper.state, req.lines.as_deref(), now)?;
    written(&priced)
}

/// An answer's body; one that cannot be written is INTERNAL (500), never
/// the request's fault.
fn written<T: Serialize>(answer: &T) -> Result<String> {
    serde_json::to_string(answer).map_err(Error::unwritable)
}
