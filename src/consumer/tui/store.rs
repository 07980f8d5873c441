//! The bounded in-memory event store. Events are numbered by a sequence
//! that never repeats, so positions stay meaningful while old events are
//! dropped from the front.

use std::collections::VecDeque;

use crate::model::event::TraceEvent;

pub struct Store {
    events: VecDeque<TraceEvent>,
    /// Sequence number of `events[0]`.
    first_seq: u64,
    cap: usize,
    /// Events dropped from the front because of `cap`.
    pub evicted: u64,
}

impl Store {
    pub fn new(cap: usize) -> Store {
        let cap = cap.max(1);
        Store {
            events: VecDeque::with_capacity(cap.min(1 << 16)),
            first_seq: 0,
            cap,
            evicted: 0,
        }
    }

    pub fn push(&mut self, ev: TraceEvent) {
        if self.events.len() == self.cap {
            self.events.pop_front();
            self.first_seq += 1;
            self.evicted += 1;
        }
        self.events.push_back(ev);
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// One past the newest sequence number.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.events.len() as u64
    }

    pub fn get(&self, seq: u64) -> Option<&TraceEvent> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get(usize::try_from(i).ok()?)
    }

    /// The retained events with sequence numbers in `[lo, hi)`.
    pub fn range(&self, lo: u64, hi: u64) -> std::collections::vec_deque::Iter<'_, TraceEvent> {
        let first = self.first_seq;
        let end = self.end_seq();
        let (lo, hi) = (lo.clamp(first, end), hi.clamp(first, end));
        self.events
            .range((lo - first) as usize..(hi.max(lo) - first) as usize)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::EventBuilder;

    fn ev(n: u32) -> TraceEvent {
        EventBuilder::new().nr(n).build()
    }

    #[test]
    fn drops_oldest_first_and_keeps_sequence_numbers() {
        let mut s = Store::new(3);
        for i in 0..5 {
            s.push(ev(i));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.first_seq(), 2);
        assert_eq!(s.end_seq(), 5);
        assert_eq!(s.evicted, 2);
        assert_eq!(s.get(2).unwrap().nr, 2);
        assert_eq!(s.get(4).unwrap().nr, 4);
        assert!(s.get(1).is_none());
        assert!(s.get(5).is_none());
        let nrs = |lo, hi| s.range(lo, hi).map(|e| e.nr).collect::<Vec<_>>();
        assert_eq!(nrs(3, 5), vec![3, 4]);
        assert_eq!(nrs(0, 3), vec![2], "clamped to what is retained");
        assert_eq!(nrs(4, 9), vec![4]);
        assert!(nrs(4, 2).is_empty());
    }
}
