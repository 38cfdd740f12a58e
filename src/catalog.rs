//! Item ids ↔ rows.

/// Longest item id accepted (ids are short codes in practice).
pub const MAX_ITEM_ID_LEN: usize = 256;

/// Items added after load are indexed apart until there are this many, so
/// adding one costs a short insert rather than a re-sort of the catalog.
const ADDED_BEFORE_MERGE: usize = 1024;

/// The bundle's item ids with an index from id to row: the rows sorted by id
/// (4 bytes an item; a hash map of cloned ids was ~50 MB at a million items).
#[derive(Debug, Clone)]
pub struct Catalog {
    ids: Vec<String>,
    by_id: Vec<u32>,
    /// Rows added since `by_id` was last sorted, sorted by id themselves.
    added: Vec<u32>,
}

impl Catalog {
    /// `ids[row]` is row's external id (unique: the bundle reader checks).
    pub fn new(ids: Vec<String>) -> Catalog {
        let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
        Catalog { ids, by_id, added: Vec::new() }
    }

    /// Row of an external item id, if the catalog holds it.
    pub fn row(&self, id: &str) -> Option<u32> {
        let find =
            |index: &[u32]| index.binary_search_by(|&r| self.ids[r as usize].as_str().cmp(id)).ok().map(|at| index[at]);
        find(&self.by_id).or_else(|| find(&self.added))
    }

    /// Add an item the catalog does not hold yet; returns its row (the next one).
    pub fn push(&mut self, id: String) -> u32 {
        debug_assert!(self.row(&id).is_none(), "{id:?} is already in the catalog");
        let row = self.ids.len() as u32;
        let at = self.added.partition_point(|&r| self.ids[r as usize] < id);
        self.ids.push(id);
        self.added.insert(at, row);
        if self.added.len() >= ADDED_BEFORE_MERGE {
            self.by_id.append(&mut self.added);
            let ids = &self.ids;
            self.by_id.sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
        }
        row
    }

    /// External id of a row (valid rows only).
    pub fn id(&self, row: u32) -> &str {
        &self.ids[row as usize]
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_finds_its_row_and_unknown_ids_none() {
        let ids: Vec<String> = ["b", "a", "10", "9", "", "é"].iter().map(|s| s.to_string()).collect();
        let catalog = Catalog::new(ids.clone());
        for (row, id) in ids.iter().enumerate() {
            assert_eq!(catalog.row(id), Some(row as u32), "{id:?}");
            assert_eq!(catalog.id(row as u32), id);
        }
        for unknown in ["c", "1", "a ", "B"] {
            assert_eq!(catalog.row(unknown), None, "{unknown:?}");
        }
        assert_eq!(Catalog::new(Vec::new()).row("a"), None);
    }

    #[test]
    fn added_items_find_their_rows_before_and_after_the_merge() {
        let mut catalog = Catalog::new(vec!["m".into(), "c".into()]);
        let added: Vec<String> = (0..2 * ADDED_BEFORE_MERGE + 5).map(|i| format!("n{i:05}")).rev().collect();
        for (i, id) in added.iter().enumerate() {
            assert_eq!(catalog.push(id.clone()), 2 + i as u32);
            assert_eq!(catalog.row(id), Some(2 + i as u32));
        }
        for (i, id) in added.iter().enumerate() {
            assert_eq!(catalog.row(id), Some(2 + i as u32), "{id}");
        }
        assert_eq!((catalog.row("m"), catalog.row("c"), catalog.row("n")), (Some(0), Some(1), None));
        assert_eq!(catalog.len(), 2 * ADDED_BEFORE_MERGE + 7);
    }
}
