//! The store's catalog patch (`edgerec patch`), followed per sandbox: its
//! path on the `origin` backend is the `edgerec` config store's `patch` key;
//! it is read at most once a minute (`patch_ttl_ms` to change it) and applied
//! to a copy of each store it was made for (new products, prices, stock).
//! A patch that cannot be read keeps the last good one; a patch made for
//! another bundle (PATCH_MISMATCH) leaves that bundle's store as built.

use crate::release::{configured_file, fetch};
use edgerec::{Result, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PATCH_TTL: Duration = Duration::from_secs(60);

pub struct Patcher {
    path: String,
    ttl: Duration,
    read_at: Option<Instant>,
    text: Option<String>,
    /// Patched copies by the version of the store they were made from.
    patched: HashMap<String, Option<Store>>,
}

impl Patcher {
    /// The patcher the service's config store asks for, if any.
    pub fn configured() -> Option<Patcher> {
        let (path, ttl) = configured_file("patch", PATCH_TTL)?;
        Some(Patcher { path, ttl, read_at: None, text: None, patched: HashMap::new() })
    }

    fn refresh(&mut self) {
        if self.read_at.is_some_and(|t| t.elapsed() < self.ttl) {
            return;
        }
        self.read_at = Some(Instant::now());
        let Ok(text) = fetch(&self.path).map(|b| String::from_utf8_lossy(&b).into_owned()) else { return };
        if self.text.as_ref() != Some(&text) {
            self.text = Some(text);
            self.patched.clear();
        }
    }

    /// `store` with the patch on it, or `store` itself when there is none
    /// for it; and whether it was patched.
    pub fn apply<'a>(&'a mut self, store: &'a Store) -> (&'a Store, bool) {
        self.refresh();
        let Some(text) = &self.text else { return (store, false) };
        let version = store.model().version.clone();
        let patched = self.patched.entry(version).or_insert_with(|| patched(store, text).ok());
        match patched {
            Some(p) => (p, true),
            None => (store, false),
        }
    }
}

fn patched(store: &Store, text: &str) -> Result<Store> {
    let mut copy = store.clone();
    copy.apply_patch(text)?;
    Ok(copy)
}
