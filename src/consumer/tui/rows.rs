//! The rows the stream shows: every retained event, or the sequence numbers
//! of those that match the active filter. Sequence numbers only grow, so the
//! filtered index stays sorted and is searched by bisection.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct Rows {
    /// `None`: every retained event is a row.
    filtered: Option<VecDeque<u64>>,
}

impl Rows {
    pub fn all() -> Rows {
        Rows { filtered: None }
    }

    pub fn filtered(seqs: VecDeque<u64>) -> Rows {
        Rows {
            filtered: Some(seqs),
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.filtered.is_some()
    }

    /// Records a newly stored event that is visible.
    pub fn push(&mut self, seq: u64) {
        if let Some(f) = &mut self.filtered {
            f.push_back(seq);
        }
    }

    /// Adds rows older than every row held, oldest first (a re-filter
    /// works from the newest event back).
    pub fn prepend(&mut self, older: &[u64]) {
        if let Some(f) = &mut self.filtered {
            debug_assert!(older.windows(2).all(|w| w[0] < w[1]));
            debug_assert!(older.last().zip(f.front()).is_none_or(|(a, b)| a < b));
            for &s in older.iter().rev() {
                f.push_front(s);
            }
        }
    }

    /// Forgets rows whose events the store has dropped.
    pub fn evict_before(&mut self, first: u64) {
        if let Some(f) = &mut self.filtered {
            while f.front().is_some_and(|&s| s < first) {
                f.pop_front();
            }
        }
    }

    /// Number of rows, given the store's `[first, end)` range.
    pub fn len(&self, first: u64, end: u64) -> usize {
        match &self.filtered {
            Some(f) => f.len(),
            None => (end - first) as usize,
        }
    }

    pub fn seq_at(&self, first: u64, end: u64, i: usize) -> Option<u64> {
        match &self.filtered {
            Some(f) => f.get(i).copied(),
            None => {
                let s = first + i as u64;
                (s < end).then_some(s)
            }
        }
    }

    /// Index of the last row whose sequence number is `<= seq` (0 if none).
    pub fn index_of(&self, first: u64, seq: u64) -> usize {
        match &self.filtered {
            Some(f) => f.partition_point(|&s| s <= seq).saturating_sub(1),
            None => seq.saturating_sub(first) as usize,
        }
    }

    /// Iterates row sequence numbers from row `from` on.
    pub fn seqs_from(
        &self,
        first: u64,
        end: u64,
        from: usize,
    ) -> Box<dyn Iterator<Item = u64> + '_> {
        match &self.filtered {
            Some(f) => Box::new(f.range(from.min(f.len())..).copied()),
            None => Box::new((first + from as u64).min(end)..end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filtered_rows_bisect_and_evict() {
        let mut r = Rows::filtered([3, 5, 9].into_iter().collect());
        assert_eq!(r.len(0, 10), 3);
        assert_eq!(r.index_of(0, 5), 1);
        assert_eq!(r.index_of(0, 8), 1);
        assert_eq!(r.index_of(0, 2), 0);
        r.push(12);
        r.prepend(&[1, 2]);
        assert_eq!(
            r.seqs_from(0, 13, 0).collect::<Vec<_>>(),
            vec![1, 2, 3, 5, 9, 12]
        );
        r.evict_before(6);
        assert_eq!(r.seq_at(6, 13, 0), Some(9));
        assert_eq!(r.seqs_from(6, 13, 0).collect::<Vec<_>>(), vec![9, 12]);
    }

    #[test]
    fn unfiltered_rows_are_the_store_range() {
        let r = Rows::all();
        assert_eq!(r.len(4, 10), 6);
        assert_eq!(r.seq_at(4, 10, 2), Some(6));
        assert_eq!(r.seq_at(4, 10, 6), None);
        assert_eq!(r.index_of(4, 7), 3);
        assert_eq!(r.seqs_from(4, 10, 4).collect::<Vec<_>>(), vec![8, 9]);
    }
}
