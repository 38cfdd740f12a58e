//! Item ids ↔ rows.

/// The bundle's item ids with an index from id to row: the rows sorted by id
/// (4 bytes an item; a hash map of cloned ids was ~50 MB at a million items).
#[derive(Debug, Clone)]
pub struct Catalog {
    ids: Vec<String>,
    by_id: Vec<u32>,
}

impl Catalog {
    /// `ids[row]` is row's external id (unique: the bundle reader checks).
    pub fn new(ids: Vec<String>) -> Catalog {
        let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
        Catalog { ids, by_id }
    }

    /// Row of an external item id, if the bundle knows it.
    pub fn row(&self, id: &str) -> Option<u32> {
        let at = self.by_id.binary_search_by(|&r| self.ids[r as usize].as_str().cmp(id)).ok()?;
        Some(self.by_id[at])
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
}
