//! The shopper's decisioning state, kept on the device: impressions and
//! outcomes for frequency caps and suppression, the session count, the
//! bandit's own outcomes and its random draws. Exported and imported as
//! JSON so the host can persist it (the JS wrapper: localStorage).

use super::spec::Caps;
use crate::error::{Error, Result};
use crate::priors::Trials;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const STATE_VERSION: u32 = 1;
/// Most entries kept in the log; the oldest go first.
pub const MAX_LOG: usize = 2000;
const MAX_KEY_LEN: usize = 128;
pub const HOUR_MS: f64 = 3_600_000.0;
pub const DAY_MS: f64 = 24.0 * HOUR_MS;
const WEEK_MS: f64 = 7.0 * DAY_MS;
/// Dismissals count for this long.
const DISMISSAL_WINDOW_MS: f64 = 30.0 * DAY_MS;
/// Purchases are remembered this long (the longest suppression possible).
const PURCHASE_WINDOW_MS: f64 = 365.0 * DAY_MS;
/// A gap this long without activity starts a new session.
pub const SESSION_GAP_MS: f64 = 30.0 * 60_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Impression,
    Click,
    Dismiss,
    Purchase,
}

impl Outcome {
    /// A take: what the bandit counts as a success.
    pub fn is_take(self) -> bool {
        matches!(self, Outcome::Click | Outcome::Purchase)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogEntry {
    /// Host time, ms since the epoch.
    pub t: f64,
    /// Session number.
    pub s: u32,
    pub slot: String,
    pub offer: String,
    pub outcome: Outcome,
    /// Items shown (impressions only): a later purchase of one of them is
    /// attributed to the offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// The session's page view an impression was shown in (see
    /// `Session::views`): showing the same offer again in it counts nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub v: u32,
    /// The item a set was built around (impressions of `completeTheSet`):
    /// the cart must hold it too for the set's discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<String>,
    /// The channel an impression was shown in (the request's
    /// `context.channel`), for channel caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShopperState {
    pub version: u32,
    /// The host's stable pseudonymous key; hashed for experiment arms,
    /// never sent anywhere by the engine.
    pub shopper_key: String,
    pub session: u32,
    /// Time of the last decision or outcome (ms), for session gaps.
    pub last_seen: f64,
    /// When this session began (ms): its first decision or outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<f64>,
    /// Random numbers drawn so far (the stream is keyed by shopper).
    pub draws: u64,
    #[serde(default)]
    pub log: Vec<LogEntry>,
    /// Keyed `experiment/offer`.
    #[serde(default)]
    pub bandit: BTreeMap<String, Trials>,
}

impl ShopperState {
    pub fn new(shopper_key: &str) -> ShopperState {
        ShopperState {
            version: STATE_VERSION,
            shopper_key: shopper_key.to_string(),
            session: 0,
            last_seen: f64::NEG_INFINITY,
            started: None,
            draws: 0,
            log: Vec::new(),
            bandit: BTreeMap::new(),
        }
    }

    /// The state as a JSON object (`shopper::ShopperData` adds the ledger).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        // -inf (never seen) is not JSON: written as 0, read back the same way.
        if !self.last_seen.is_finite() {
            v["lastSeen"] = serde_json::json!(0.0);
        }
        v
    }

    /// State read back from `to_json`'s object, checked.
    pub fn from_json(value: serde_json::Value) -> Result<ShopperState> {
        serde_json::from_value::<ShopperState>(value).map_err(|e| Error::InvalidState(e.to_string()))?.checked()
    }

    /// Refuse what this engine could not have written.
    fn checked(self) -> Result<ShopperState> {
        if self.version != STATE_VERSION {
            return Err(Error::InvalidState(format!("version {} (this engine reads {STATE_VERSION})", self.version)));
        }
        check_key(&self.shopper_key).map_err(Error::InvalidState)?;
        if self.log.len() > MAX_LOG {
            return Err(Error::InvalidState(format!("{} log entries, more than {MAX_LOG}", self.log.len())));
        }
        let started_ok = self.started.is_none_or(f64::is_finite);
        if !self.last_seen.is_finite() || !started_ok || self.log.iter().any(|e| !e.t.is_finite()) {
            return Err(Error::InvalidState("times must be finite numbers".into()));
        }
        if self.bandit.values().any(|t| t.taken > t.shown) {
            return Err(Error::InvalidState("a bandit entry has more takes than shows".into()));
        }
        Ok(self)
    }

    /// Move to a new session when asked or after a long gap.
    pub fn touch(&mut self, now: f64, new_session: bool) {
        if new_session || (self.last_seen.is_finite() && now - self.last_seen > SESSION_GAP_MS) {
            self.new_session();
        }
        self.started.get_or_insert(now);
        self.last_seen = self.last_seen.max(now);
    }

    /// Count a new session (a new visit); it starts at the next touch.
    pub fn new_session(&mut self) {
        self.session = self.session.saturating_add(1);
        self.started = None;
    }

    /// Seconds since this session began (0 before it has).
    pub fn seconds_in_session(&self, now: f64) -> f64 {
        self.started.map_or(0.0, |t| ((now - t) / 1000.0).max(0.0))
    }

    pub fn record(&mut self, entry: LogEntry) {
        let now = entry.t;
        self.log.retain(|e| match e.outcome {
            Outcome::Purchase => now - e.t <= PURCHASE_WINDOW_MS,
            _ => now - e.t <= DISMISSAL_WINDOW_MS.max(WEEK_MS),
        });
        if self.log.len() >= MAX_LOG {
            self.log.remove(0);
        }
        self.log.push(entry);
    }
}

pub fn check_key(key: &str) -> std::result::Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("a shopper key must be 1..={MAX_KEY_LEN} bytes"));
    }
    Ok(())
}

/// Impressions and outcomes of one offer or slot, by window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub session: u32,
    pub day: u32,
    pub week: u32,
    pub dismissals: u32,
    /// Dismissals in the shopper's current session.
    pub session_dismissals: u32,
    pub last_purchase: Option<f64>,
}

/// The log summed once per decision, by offer id and by slot id, in
/// every channel and in the decision's own.
#[derive(Debug, Default)]
pub struct Tally<'a> {
    pub offers: HashMap<&'a str, Counts>,
    pub slots: HashMap<&'a str, Counts>,
    /// Impressions in the decision's channel (`PageView::channel`) only.
    pub channel_offers: HashMap<&'a str, Counts>,
    pub channel_slots: HashMap<&'a str, Counts>,
    /// Items the shopper said "no thanks" to (those the dismissed offer last
    /// showed), within the dismissal window: no offer proposes them again.
    pub dismissed_items: std::collections::HashSet<&'a str>,
}

/// The page a decision is for: its slot, session and page view. What this
/// page already shows in the slot does not count against its caps: showing
/// it again counts nothing, so a re-render keeps the offer on screen instead
/// of swapping it for its own impression.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    pub slot: &'a str,
    pub session: u32,
    pub view: u32,
    /// The channel decided for (`context.channel`), if the request said.
    pub channel: Option<&'a str>,
}

impl<'a> Tally<'a> {
    pub fn new(state: &'a ShopperState, now: f64, page: PageView) -> Tally<'a> {
        let mut t = Tally::default();
        let mut last_shown: HashMap<&str, &[String]> = HashMap::new();
        for e in &state.log {
            let age = now - e.t;
            let on_this_page =
                e.outcome == Outcome::Impression && (e.s, e.v) == (page.session, page.view) && e.slot == page.slot;
            match e.outcome {
                Outcome::Impression => {
                    last_shown.insert(&e.offer, &e.items);
                }
                Outcome::Dismiss if age < DISMISSAL_WINDOW_MS => {
                    let items = last_shown.get(e.offer.as_str()).copied().unwrap_or_default();
                    t.dismissed_items.extend(items.iter().map(String::as_str));
                }
                _ => {}
            }
            if on_this_page {
                continue;
            }
            for counts in [t.offers.entry(&e.offer).or_default(), t.slots.entry(&e.slot).or_default()] {
                counts.add(e, state.session, age);
            }
            if e.outcome == Outcome::Impression && page.channel.is_some() && e.c.as_deref() == page.channel {
                for counts in
                    [t.channel_offers.entry(&e.offer).or_default(), t.channel_slots.entry(&e.slot).or_default()]
                {
                    counts.add(e, state.session, age);
                }
            }
        }
        t
    }

    /// The counts of offer `id` against `caps`: in every channel, then in
    /// the decision's channel.
    /// An offer the shopper said "no thanks" to in this session is retired
    /// for it, unless the policy keeps it (`keepAfterDismissal`).
    pub fn offer_caps(&self, id: &str, caps: &Caps, channel: Option<&str>, now: f64) -> Vec<CapCheck> {
        let get = |m: &HashMap<&str, Counts>| m.get(id).copied().unwrap_or_default();
        let counts = get(&self.offers);
        let mut checks = check_caps(caps, counts, channel.map(|c| (c, get(&self.channel_offers))), now);
        if counts.session_dismissals > 0 && !caps.keep_after_dismissal {
            let count = counts.session_dismissals as f64;
            checks.push(CapCheck { cap: "dismissedThisSession", channel: None, count, limit: 1.0, passed: false });
        }
        checks
    }

    /// The counts of slot `id` against `caps`, as `offer_caps`.
    pub fn slot_caps(&self, id: &str, caps: &Caps, channel: Option<&str>, now: f64) -> Vec<CapCheck> {
        let get = |m: &HashMap<&str, Counts>| m.get(id).copied().unwrap_or_default();
        check_caps(caps, get(&self.slots), channel.map(|c| (c, get(&self.channel_slots))), now)
    }
}

impl Counts {
    /// Count one log entry `age` ms old.
    fn add(&mut self, e: &LogEntry, session: u32, age: f64) {
        match e.outcome {
            Outcome::Impression => {
                self.session += (e.s == session) as u32;
                self.day += (age < DAY_MS) as u32;
                self.week += (age < WEEK_MS) as u32;
            }
            Outcome::Dismiss => {
                self.dismissals += (age < DISMISSAL_WINDOW_MS) as u32;
                self.session_dismissals += (e.s == session) as u32;
            }
            Outcome::Purchase => self.last_purchase = Some(self.last_purchase.map_or(e.t, |p: f64| p.max(e.t))),
            Outcome::Click => {}
        }
    }
}

/// One cap as the trace shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapCheck {
    pub cap: &'static str,
    /// The channel a channel cap counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub count: f64,
    pub limit: f64,
    pub passed: bool,
}

/// Every cap of `caps` against `counts` (every channel's impressions) and,
/// for the channel decided in, its caps against that channel's counts.
pub fn check_caps(caps: &Caps, counts: Counts, channel: Option<(&str, Counts)>, now: f64) -> Vec<CapCheck> {
    let mut out = Vec::new();
    let mut limit = |cap, channel: Option<&str>, count: u32, limit: Option<u32>| {
        if let Some(l) = limit {
            let channel = channel.map(str::to_string);
            out.push(CapCheck { cap, channel, count: count as f64, limit: l as f64, passed: count < l });
        }
    };
    limit("perSession", None, counts.session, caps.per_session);
    limit("perDay", None, counts.day, caps.per_day);
    limit("perWeek", None, counts.week, caps.per_week);
    limit("afterDismissals", None, counts.dismissals, caps.after_dismissals);
    if let Some((name, c)) = channel {
        if let Some(w) = caps.channels.get(name) {
            limit("perSession", Some(name), c.session, w.per_session);
            limit("perDay", Some(name), c.day, w.per_day);
            limit("perWeek", Some(name), c.week, w.per_week);
        }
    }
    if let Some(days) = caps.after_purchase_days {
        let since = counts.last_purchase.map_or(f64::INFINITY, |t| (now - t) / DAY_MS);
        out.push(CapCheck {
            cap: "afterPurchaseDays",
            channel: None,
            count: since,
            limit: days,
            passed: since >= days,
        });
    }
    out
}

/// The key of an (experiment, offer) pair in the shopper's bandit trials.
pub fn bandit_key(experiment: &str, offer: &str) -> String {
    format!("{experiment}/{offer}")
}
