//! The ring buffer read directly (mmap), publishing the consumer position
//! once per drained slice instead of after every record as libbpf does: the
//! kernel's reserve reads that position on every record, so a store per
//! record moves its cache line between the producing and consuming CPUs on
//! every call while the capture thread drains.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use anyhow::{anyhow, Result};

const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HDR: u64 = 8;

pub struct Ring {
    cons: *mut libc::c_void,
    prod: *mut libc::c_void,
    page: usize,
    size: usize,
    epfd: i32,
}

impl Ring {
    /// `size`: the map's max_entries, the data size (a power of two).
    pub fn new(fd: BorrowedFd<'_>, size: u32) -> Result<Ring> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        if !size.is_power_of_two() {
            return Err(anyhow!("ring buffer of {size} bytes: not a power of two"));
        }
        let size = size as usize;
        let raw = fd.as_raw_fd();
        // SAFETY: mapping the ring buffer map as the kernel lays it out:
        // the consumer page writable, the producer page and the data (mapped
        // twice in a row by the kernel) read-only.
        let cons = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            )
        };
        if cons == libc::MAP_FAILED {
            return Err(anyhow!(
                "mmap of the ring's consumer page: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: as above.
        let prod = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page + 2 * size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                raw,
                page as libc::off_t,
            )
        };
        if prod == libc::MAP_FAILED {
            // SAFETY: `cons` was mapped above with this length.
            unsafe { libc::munmap(cons, page) };
            return Err(anyhow!(
                "mmap of the ring's data: {}",
                std::io::Error::last_os_error()
            ));
        }
        let ring = Ring {
            cons,
            prod,
            page,
            size,
            // SAFETY: plain syscalls; the fd is closed in Drop.
            epfd: unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
        };
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        // SAFETY: `ev` outlives the call; the map fd is valid (borrowed).
        if ring.epfd < 0
            || unsafe { libc::epoll_ctl(ring.epfd, libc::EPOLL_CTL_ADD, raw, &mut ev) } < 0
        {
            return Err(anyhow!(
                "epoll on the ring: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(ring)
    }

    pub fn epoll_fd(&self) -> i32 {
        self.epfd
    }

    /// Hands up to `n` records to `f`; the consumer position is published
    /// once, at the end.
    pub fn consume_n(&self, n: usize, mut f: impl FnMut(&[u8])) -> usize {
        // SAFETY: the pages are mapped for the life of `self`; the
        // positions are u64s the kernel updates atomically.
        let cons_pos = unsafe { &*(self.cons as *const AtomicU64) };
        let prod_pos = unsafe { &*(self.prod as *const AtomicU64) };
        let data = unsafe { (self.prod as *const u8).add(self.page) };
        let mask = self.size as u64 - 1;
        let mut cons = cons_pos.load(Ordering::Relaxed);
        let mut done = 0;
        'outer: while done < n {
            let prod = prod_pos.load(Ordering::Acquire);
            if cons >= prod {
                break;
            }
            while cons < prod && done < n {
                let at = (cons & mask) as usize;
                // SAFETY: `at` is inside the data, 8-byte aligned; the
                // kernel writes the header's length word atomically.
                let len_word = unsafe { &*(data.add(at) as *const AtomicU32) };
                let len = len_word.load(Ordering::Acquire);
                if len & BUSY != 0 {
                    break 'outer;
                }
                let body = (len & !(BUSY | DISCARD)) as u64;
                if len & DISCARD == 0 {
                    // SAFETY: the data is mapped twice in a row, so a
                    // record that wraps is contiguous here.
                    let rec = unsafe {
                        std::slice::from_raw_parts(data.add(at + HDR as usize), body as usize)
                    };
                    f(rec);
                    done += 1;
                }
                cons += (body + HDR + 7) & !7;
            }
        }
        cons_pos.store(cons, Ordering::Release);
        done
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: mapped and opened in `new` with these lengths.
        unsafe {
            libc::munmap(self.cons, self.page);
            libc::munmap(self.prod, self.page + 2 * self.size);
            libc::close(self.epfd);
        }
    }
}
