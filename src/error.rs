//! One error type for the whole engine. Every variant has a stable `code`
//! that crosses the WASM boundary unchanged, so a storefront can branch on it.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The bytes are not a readable safetensors file (truncated, bad header).
    BundleCorrupt(String),
    /// A readable bundle written by an incompatible format version.
    BundleVersion { found: u32, supported: u32 },
    /// A tensor or manifest field has the wrong dtype, shape or value.
    BundleInvalid(String),
    /// A stored checksum does not match the tensor's bytes.
    BundleChecksum(String),
    /// The ONNX encoder cannot be loaded or does not follow the model contract.
    ModelContract(String),
    /// The encoder failed while running on a session.
    ModelRun(String),
    /// An event could not be understood (unknown type, bad item id).
    InvalidEvent(String),
    /// Options passed to `recommend` (or a CLI flag) are not valid.
    InvalidOptions(String),
    /// Training data or a catalog given to the bundle builder is unusable.
    InvalidInput(String),
    /// An item update (`update_items`, a catalog patch) that cannot be
    /// applied: the item and the field named.
    InvalidItem { item: String, field: String, message: String },
    /// A catalog patch made for another bundle (or not a patch of this format).
    PatchMismatch(String),
    /// A request names items the bundle does not know (ids listed).
    UnknownItem(Vec<String>),
    /// An HTTP request body is not a valid request (bad JSON, bad shape).
    InvalidRequest(String),
    /// A request body is larger than the endpoint accepts.
    PayloadTooLarge { limit: usize },
    /// An offer policy is malformed, contradictory or refers to unknown
    /// things; `path` names the field (`offers[2].caps.perDay`).
    InvalidPolicy { path: String, message: String },
    /// Exported decisioning state that cannot be imported.
    InvalidState(String),
    /// A request names a policy the engine does not hold.
    UnknownPolicy(String),
    /// `shown` names a decision the engine no longer keeps (older than the
    /// last `kept`, or never made by this engine).
    DecisionExpired { id: u32, kept: usize },
    /// A release file (`release.json`) is malformed or contradicts itself.
    InvalidRelease(String),
    /// A bundle or aggregates do not belong to the release that names them
    /// (another version, catalog, dimension or experiment).
    ReleaseMismatch(String),
    /// An answer the engine could not write out: a bug in the engine,
    /// never the caller's input.
    Internal(String),
}

impl Error {
    /// Stable machine-readable code, part of the public API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BundleCorrupt(_) => "BUNDLE_CORRUPT",
            Error::BundleVersion { .. } => "BUNDLE_VERSION",
            Error::BundleInvalid(_) => "BUNDLE_INVALID",
            Error::BundleChecksum(_) => "BUNDLE_CHECKSUM",
            Error::ModelContract(_) => "MODEL_CONTRACT",
            Error::ModelRun(_) => "MODEL_RUN",
            Error::InvalidEvent(_) => "INVALID_EVENT",
            Error::InvalidOptions(_) => "INVALID_OPTIONS",
            Error::InvalidInput(_) => "INVALID_INPUT",
            Error::UnknownItem(_) => "UNKNOWN_ITEM",
            Error::InvalidItem { .. } => "INVALID_ITEM",
            Error::PatchMismatch(_) => "PATCH_MISMATCH",
            Error::InvalidRequest(_) => "INVALID_REQUEST",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::InvalidPolicy { .. } => "INVALID_POLICY",
            Error::InvalidState(_) => "INVALID_STATE",
            Error::UnknownPolicy(_) => "UNKNOWN_POLICY",
            Error::DecisionExpired { .. } => "DECISION_EXPIRED",
            Error::InvalidRelease(_) => "INVALID_RELEASE",
            Error::ReleaseMismatch(_) => "RELEASE_MISMATCH",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// An encoder that breaks the model contract, saying how.
    pub fn contract(msg: impl fmt::Display) -> Error {
        Error::ModelContract(msg.to_string())
    }

    /// An answer that could not be serialised.
    pub fn unwritable(e: impl fmt::Display) -> Error {
        Error::Internal(format!("cannot write the answer: {e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BundleCorrupt(m) => write!(f, "bundle is corrupt: {m}"),
            Error::BundleVersion { found, supported } => {
                write!(f, "bundle format version {found} is not supported (this engine reads version {supported})")
            }
            Error::BundleInvalid(m) => write!(f, "bundle is invalid: {m}"),
            Error::BundleChecksum(m) => write!(f, "bundle checksum mismatch: {m}"),
            Error::ModelContract(m) => write!(f, "encoder breaks the model contract: {m}"),
            Error::ModelRun(m) => write!(f, "encoder failed: {m}"),
            Error::InvalidEvent(m) => write!(f, "invalid event: {m}"),
            Error::InvalidOptions(m) => write!(f, "invalid options: {m}"),
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::UnknownItem(ids) => {
                let shown: Vec<&str> = ids.iter().take(5).map(|s| s.as_str()).collect();
                let more = ids.len().saturating_sub(shown.len());
                write!(f, "unknown item id(s) {shown:?}")?;
                if more > 0 {
                    write!(f, " and {more} more")?;
                }
                write!(f, " (not in this bundle's catalog)")
            }
            Error::InvalidItem { item, field, message } => write!(f, "invalid item {item:?}: {field} {message}"),
            Error::PatchMismatch(m) => write!(f, "catalog patch does not fit this bundle: {m}"),
            Error::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Error::PayloadTooLarge { limit } => write!(f, "request body is larger than the {limit}-byte limit"),
            Error::InvalidPolicy { path, message } if path.is_empty() => write!(f, "invalid policy: {message}"),
            Error::InvalidPolicy { path, message } => write!(f, "invalid policy at {path}: {message}"),
            Error::InvalidState(m) => write!(f, "invalid decisioning state: {m}"),
            Error::UnknownPolicy(m) => write!(f, "unknown policy {m}"),
            Error::InvalidRelease(m) => write!(f, "invalid release file: {m}"),
            Error::ReleaseMismatch(m) => write!(f, "not of this release: {m}"),
            Error::Internal(m) => write!(f, "internal error (a bug in edgerec): {m}"),
            Error::DecisionExpired { id, kept } => {
                write!(f, "decision {id} is not one of the last {kept} this engine made: decide again")
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// At most `max` characters of `s` (for echoing input in messages).
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
