//! Item ids ↔ rows, and what a shopper sees of an item.

use crate::bundle::Bundle;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Catalog {
    index: HashMap<String, u32>,
}

impl Catalog {
    pub fn new(bundle: &Bundle) -> Catalog {
        let index = bundle.manifest.item_ids.iter().enumerate().map(|(i, id)| (id.clone(), i as u32)).collect();
        Catalog { index }
    }

    /// Row of an external item id, if the bundle knows it.
    pub fn row(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}
