//! `Tail`: an event's captured chunks, owned behind one thin pointer. The
//! length sits in front of the bytes in the same allocation, so the event
//! holds 8 bytes (`Option<Tail>` included) where a boxed slice takes 16: a
//! retained session holds millions of events, most of them without a tail.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;

/// Bytes of the length header.
const HEAD: usize = 4;

pub struct Tail(NonNull<u8>);

// SAFETY: a Tail owns its allocation alone and never mutates it after
// `new`, as a Box<[u8]> does.
unsafe impl Send for Tail {}
// SAFETY: as above; `&Tail` only reads.
unsafe impl Sync for Tail {}

impl Tail {
    fn layout(len: usize) -> Layout {
        Layout::from_size_align(HEAD + len, 1).expect("tail size fits a layout")
    }

    pub fn new(bytes: &[u8]) -> Tail {
        let len = u32::try_from(bytes.len()).expect("a tail is shorter than 4 GiB");
        let layout = Self::layout(bytes.len());
        // SAFETY: the layout is at least HEAD (non-zero) bytes.
        let p = unsafe { alloc(layout) };
        let Some(p) = NonNull::new(p) else {
            handle_alloc_error(layout)
        };
        // SAFETY: `p` is a fresh allocation of HEAD + bytes.len() bytes,
        // align 1, so both writes are in bounds and cannot overlap `bytes`.
        unsafe {
            std::ptr::copy_nonoverlapping(len.to_ne_bytes().as_ptr(), p.as_ptr(), HEAD);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr().add(HEAD), bytes.len());
        }
        Tail(p)
    }

    fn stored_len(&self) -> usize {
        let mut h = [0u8; HEAD];
        // SAFETY: the allocation starts with the HEAD length bytes `new` wrote.
        unsafe { std::ptr::copy_nonoverlapping(self.0.as_ptr(), h.as_mut_ptr(), HEAD) };
        u32::from_ne_bytes(h) as usize
    }
}

impl Deref for Tail {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `new` allocated and initialised HEAD + len bytes; they live
        // until drop, which `&self` rules out while the slice is borrowed.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(HEAD), self.stored_len()) }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this very layout, freed only here.
        unsafe { dealloc(self.0.as_ptr(), Self::layout(self.stored_len())) }
    }
}

impl Clone for Tail {
    fn clone(&self) -> Tail {
        Tail::new(self)
    }
}

impl PartialEq for Tail {
    fn eq(&self, other: &Tail) -> bool {
        **self == **other
    }
}

impl Eq for Tail {}

impl fmt::Debug for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<&[u8]> for Tail {
    fn from(b: &[u8]) -> Tail {
        Tail::new(b)
    }
}

impl From<Vec<u8>> for Tail {
    fn from(b: Vec<u8>) -> Tail {
        Tail::new(&b)
    }
}

impl From<Box<[u8]>> for Tail {
    fn from(b: Box<[u8]>) -> Tail {
        Tail::new(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_its_bytes_behind_one_thin_pointer() {
        assert_eq!(std::mem::size_of::<Option<Tail>>(), 8);
        for len in [0usize, 1, 3, 4, 5, 255, 65_535, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let t = Tail::new(&bytes);
            assert_eq!(&*t, &bytes[..]);
            let c = t.clone();
            drop(t);
            assert_eq!(&*c, &bytes[..]);
            assert_eq!(c, Tail::from(bytes.clone()));
        }
    }
}
