//! One shopper's state as the host keeps it (localStorage, or the body of
//! each edge request): the decisioning state and, beside it, the report
//! ledger. One JSON object, the ledger under `ledger`, so `decide` and
//! `report` each read only their own part.

use crate::decide::state::ShopperState;
use crate::error::{Error, Result};
use crate::report::ledger::Ledger;

/// Largest stored state accepted.
pub const MAX_STATE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct ShopperData {
    pub state: ShopperState,
    pub ledger: Ledger,
}

impl ShopperData {
    pub fn new(shopper_key: &str) -> ShopperData {
        ShopperData { state: ShopperState::new(shopper_key), ledger: Ledger::default() }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut v = self.state.to_json();
        v["ledger"] = serde_json::to_value(&self.ledger).unwrap_or_default();
        v
    }

    pub fn export(&self) -> String {
        self.to_json().to_string()
    }

    pub fn import(json: &str) -> Result<ShopperData> {
        if json.len() > MAX_STATE_BYTES {
            return Err(Error::InvalidState(format!("state is larger than {MAX_STATE_BYTES} bytes")));
        }
        ShopperData::from_json(serde_json::from_str(json).map_err(|e| Error::InvalidState(e.to_string()))?)
    }

    /// State that arrived as a JSON value (an HTTP request's `state`); a
    /// state without a ledger has nothing pending.
    pub fn from_json(mut value: serde_json::Value) -> Result<ShopperData> {
        let ledger = match value.as_object_mut().and_then(|o| o.remove("ledger")) {
            Some(l) => serde_json::from_value::<Ledger>(l).map_err(|e| Error::InvalidState(format!("ledger: {e}")))?,
            None => Ledger::default(),
        };
        Ok(ShopperData { state: ShopperState::from_json(value)?, ledger: ledger.checked()? })
    }
}
