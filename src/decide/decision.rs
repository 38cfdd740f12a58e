//! What a decision is asked and what it answers: the request, the shopper's
//! feedback, the chosen offer, and the trace of how every offer fared.

use super::compiled::ActionContent;
use super::context::RawContext;
use super::gap::GapFill;
use super::spec::OfferKind;
use super::state::{CapCheck, Outcome};
use crate::model::OfferedItem;
use crate::rank::Reason;
use crate::score::ScoreParts;
use serde::{Deserialize, Serialize};

/// What `nextBestOffer` is asked (JSON, camelCase).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferRequest {
    pub slot: String,
    /// The product on screen (else the cart's last item, else the last view).
    pub anchor: Option<String>,
    /// The shopper's segment flags, set by the host.
    #[serde(default)]
    pub segments: Vec<String>,
    /// What the host says about the request (`channel`, `device`…), in
    /// the fields the policy declares.
    #[serde(default)]
    pub context: RawContext,
    /// Item ids the offer must not show (what the page already shows).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Which items the offer may show (a category, a price range, in stock…).
    pub filter: Option<crate::filter::ItemFilter>,
}

/// A shopper's reaction to an offer they were shown.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feedback {
    pub slot: String,
    pub offer: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundlePrice {
    /// Price of the items to add.
    pub total_price: f32,
    /// After the policy's discount (equal to `total_price` without one).
    pub discounted_price: f32,
    pub discount_percent: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChosenOffer {
    pub id: String,
    pub kind: OfferKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub items: Vec<OfferedItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundlePrice>,
    pub score: f32,
    pub parts: ScoreParts,
    pub reasons: Vec<Reason>,
    /// An action's content (title, link, payload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionContent>,
    /// How a `fillTheGap` offer reaches its threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<GapFill>,
    /// P(take) × value: what arbitration weighed after priority.
    #[serde(flatten)]
    pub worth: Worth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Chosen,
    /// Eligible and uncapped, but another offer won arbitration.
    Outranked,
    Ineligible,
    Capped,
    /// Nothing of this kind to show (no focus item, no co-purchases…).
    NoCandidates,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCheck {
    pub rule: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How one offer fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferTrace {
    pub offer: String,
    pub verdict: Verdict,
    pub fallback: bool,
    pub priority: i32,
    /// The eligibility rules, for the items shown (or the best candidate
    /// when none passed).
    pub rules: Vec<RuleCheck>,
    /// Candidates passed over for failing a rule or for diversity.
    pub rejected: usize,
    pub caps: Vec<CapCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<ScoreParts>,
    /// The Thompson draw of P(take), in a bandit arm (weighed times the value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
    /// Offers that got as far as a proposal: what arbitration weighs.
    #[serde(flatten)]
    pub worth: Option<Worth>,
}

/// What arbitration weighs after priority: P(take) × value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worth {
    /// P(take) from the released aggregates, shrunk toward the slot's rate.
    pub p_take: f64,
    /// What one take is worth to the store.
    pub value: f64,
    pub expected_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub experiment: String,
    pub arm: String,
    pub holdout: bool,
    pub bandit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub policy: String,
    pub slot: String,
    pub offer: Option<ChosenOffer>,
    pub fallback: bool,
    pub arm: Option<Assignment>,
    pub slot_caps: Vec<CapCheck>,
    pub trace: Vec<OfferTrace>,
    /// The engine's id for this decision, to say when it is `shown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// What showing this decision counts.
    #[serde(skip)]
    pub showing: Showing,
}

/// The offer a decision shows: its id, the items it adds and, for a set,
/// the item it is built around.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShownOffer {
    pub id: String,
    pub items: Vec<String>,
    pub focus: Option<String>,
}

/// What a decision counts once it is on the shopper's screen: its
/// experiment's exposure and, with an offer, one impression of it (for
/// caps, the bandit and the reports). A decision is only a proposal until
/// the host says it was shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Showing {
    pub slot: String,
    /// The policy decided under (the active one may change before it shows).
    pub policy: String,
    pub experiment: Option<String>,
    /// Whether the shopper's arm is a bandit (its trials count the show).
    pub bandit: bool,
    pub offer: Option<ShownOffer>,
    /// The session and page view the decision was made in.
    pub session: u32,
    pub view: u32,
    /// The channel it was decided for (`context.channel`).
    pub channel: Option<String>,
}
