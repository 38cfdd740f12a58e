//! The baselines of session-based recommendation (Ludewig and Jannach,
//! "Evaluation of session-based recommendation algorithms", 2018), fitted
//! on the training sessions file: popularity, item-kNN on the last item,
//! session-kNN (SKNN) and its position-decayed variant (V-SKNN).

use super::Ranker;
use crate::args::bad;
use crate::inputs::read_file;
use edgerec::Result;
use std::collections::HashMap;

/// Training sessions as dense item ids, oldest session first (file order
/// is time order in the standard preprocessing), with each item's sessions.
pub struct Sessions {
    names: Vec<String>,
    ids: HashMap<String, u32>,
    sessions: Vec<Vec<u32>>,
    postings: Vec<Vec<u32>>,
    /// Whether any training session holds an item twice (views do; invoices
    /// do not, and then an item already in the prefix is never the next one).
    repeats: bool,
}

impl Sessions {
    pub fn read(path: &str) -> Result<Sessions> {
        let text = String::from_utf8(read_file(path)?).map_err(|_| bad(format!("{path} is not UTF-8")))?;
        let mut s = Sessions {
            names: Vec::new(),
            ids: HashMap::new(),
            sessions: Vec::new(),
            postings: Vec::new(),
            repeats: false,
        };
        for line in text.lines() {
            let mut distinct: Vec<u32> = line.split_whitespace().map(|w| s.intern(w)).collect();
            if distinct.len() < 2 {
                continue;
            }
            let index = s.sessions.len() as u32;
            let length = distinct.len();
            distinct.sort_unstable();
            distinct.dedup();
            s.repeats |= distinct.len() < length;
            for &i in &distinct {
                s.postings[i as usize].push(index);
            }
            s.sessions.push(distinct);
        }
        if s.sessions.is_empty() {
            return Err(bad(format!("{path} has no session of two items or more")));
        }
        Ok(s)
    }

    fn intern(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(word.to_string());
        self.ids.insert(word.to_string(), id);
        self.postings.push(Vec::new());
        id
    }

    /// Known items of a prefix, oldest first.
    fn known(&self, prefix: &[String]) -> Vec<u32> {
        prefix.iter().filter_map(|w| self.ids.get(w).copied()).collect()
    }

    /// The k best-scored items (ties: the more frequent item, then the one
    /// seen first).
    fn top(&self, scores: HashMap<u32, f64>, k: usize) -> Vec<String> {
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        let sessions = |i: u32| self.postings[i as usize].len();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(sessions(b.0).cmp(&sessions(a.0))).then(a.0.cmp(&b.0)));
        ranked.into_iter().take(k).map(|(i, _)| self.names[i as usize].clone()).collect()
    }
}

/// The most frequent items, whatever the session.
pub struct Popularity {
    top: Vec<String>,
}

impl Popularity {
    pub fn new(s: &Sessions) -> Popularity {
        let counts = (0..s.names.len() as u32).map(|i| (i, s.postings[i as usize].len() as f64)).collect();
        Popularity { top: s.top(counts, 100) }
    }
}

impl Ranker for Popularity {
    fn rank(&mut self, _prefix: &[String], k: usize) -> Result<Vec<String>> {
        Ok(self.top.iter().take(k).cloned().collect())
    }
}

/// Items co-occurring in sessions with the last item, by cosine:
/// sessions with both / √(sessions with each).
pub struct ItemKnn<'a> {
    s: &'a Sessions,
    cache: HashMap<u32, Vec<String>>,
}

impl<'a> ItemKnn<'a> {
    pub fn new(s: &'a Sessions) -> ItemKnn<'a> {
        ItemKnn { s, cache: HashMap::new() }
    }
}

impl Ranker for ItemKnn<'_> {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>> {
        let Some(&last) = self.s.known(prefix).last() else { return Ok(Vec::new()) };
        let s = self.s;
        let list = self.cache.entry(last).or_insert_with(|| {
            let mut both: HashMap<u32, f64> = HashMap::new();
            for &n in &s.postings[last as usize] {
                for &j in s.sessions[n as usize].iter().filter(|&&j| j != last) {
                    *both.entry(j).or_default() += 1.0;
                }
            }
            let own = s.postings[last as usize].len() as f64;
            for (j, c) in both.iter_mut() {
                *c /= (own * s.postings[*j as usize].len() as f64).sqrt();
            }
            s.top(both, 100)
        });
        Ok(list.iter().take(k).cloned().collect())
    }
}

/// Session-kNN: the k training sessions most similar to the prefix, among
/// the `sample` most recent that share an item with it, vote for their
/// items with their similarity. SKNN: cosine of the item sets. V-SKNN: each
/// shared item weighs by its position in the prefix (linear decay, the last
/// item 1), a dot product.
pub struct SessionKnn<'a> {
    s: &'a Sessions,
    k: usize,
    sample: usize,
    decay: bool,
}

impl<'a> SessionKnn<'a> {
    pub fn sknn(s: &'a Sessions) -> SessionKnn<'a> {
        SessionKnn { s, k: 100, sample: 500, decay: false }
    }

    pub fn vsknn(s: &'a Sessions) -> SessionKnn<'a> {
        SessionKnn { s, k: 100, sample: 500, decay: true }
    }
}

impl Ranker for SessionKnn<'_> {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>> {
        let items = self.s.known(prefix);
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // Weight of each distinct prefix item (its latest position).
        let mut weight: HashMap<u32, f64> = HashMap::new();
        for (pos, &i) in items.iter().enumerate() {
            let w = if self.decay { (pos + 1) as f64 / items.len() as f64 } else { 1.0 };
            weight.insert(i, w);
        }
        let mut candidates: Vec<u32> =
            weight.keys().flat_map(|&i| self.s.postings[i as usize].iter().copied()).collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.dedup();
        candidates.truncate(self.sample);
        let mut neighbours: Vec<(u32, f64)> = candidates
            .into_iter()
            .map(|n| {
                let other = &self.s.sessions[n as usize];
                let shared: f64 = other.iter().filter_map(|j| weight.get(j)).sum();
                let sim = if self.decay { shared } else { shared / ((weight.len() * other.len()) as f64).sqrt() };
                (n, sim)
            })
            .collect();
        neighbours.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        neighbours.truncate(self.k);
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for (n, sim) in neighbours {
            for &j in &self.s.sessions[n as usize] {
                *scores.entry(j).or_default() += sim;
            }
        }
        // Every neighbour shares the prefix's items: where sessions never
        // repeat an item they would fill the list with impossible answers.
        if !self.s.repeats {
            scores.retain(|j, _| !weight.contains_key(j));
        }
        Ok(self.s.top(scores, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(text: &str) -> Sessions {
        let dir = std::env::temp_dir().join(format!("edgerec-baselines-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("train.txt");
        std::fs::write(&file, text).unwrap();
        let s = Sessions::read(file.to_str().unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        s
    }

    fn words(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn baselines_rank_what_their_definition_says() {
        let s = sessions("a b\na b\na c\nb d\nd e\nd e\nd e\nx\n");
        // d is in 4 sessions; a, b and e in 3 each (a seen first).
        assert_eq!(Popularity::new(&s).rank(&[], 2).unwrap(), words(&["d", "a"]));
        // b co-occurs with a twice (cosine 2/√(3·3)), c once (1/√3), d once (1/√(3·4)).
        assert_eq!(ItemKnn::new(&s).rank(&words(&["a"]), 3).unwrap(), words(&["b", "c"]));
        // Sessions sharing "d": {b, d} and three {d, e}. No session repeats an
        // item, so "d" itself is no answer: e gets the most votes.
        assert_eq!(SessionKnn::sknn(&s).rank(&words(&["d"]), 1).unwrap(), words(&["e"]));
        // Under position decay d (1) outweighs a (0.5): e 3, b 2, c 0.5.
        let ranked = SessionKnn::vsknn(&s).rank(&words(&["a", "d"]), 3).unwrap();
        assert_eq!(ranked, words(&["e", "b", "c"]));
        // Where sessions repeat items (views), an item of the prefix may come next.
        let views = sessions("a b a\nd e\nd e d\n");
        assert_eq!(SessionKnn::sknn(&views).rank(&words(&["d"]), 1).unwrap(), words(&["d"]));
        assert!(SessionKnn::sknn(&s).rank(&words(&["unknown"]), 3).unwrap().is_empty());
    }
}
