//! A counting global allocator: allocations made and heap bytes live, per thread.
//!
//! A test or benchmark installs it with
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc;` and reads [`Snapshot`]s
//! around the code it measures. Counters are thread-local, so the test harness's other
//! threads do not disturb a measurement.
#![allow(unsafe_code)] // a GlobalAlloc impl is unsafe by definition; it only delegates to System.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

/// Delegates to [`System`] and counts this thread's allocations and live bytes.
#[derive(Debug)]
pub struct CountingAlloc;

fn add_live(delta: i64) {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get().wrapping_add(delta)));
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get().wrapping_add(1)));
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every call delegates to `System` with the caller's arguments unchanged; the only
// other effect is on this thread's counters.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        add_live(size(layout));
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        add_live(size(layout));
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-size(layout));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        add_live(i64::try_from(new_size).unwrap_or(i64::MAX) - size(layout));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// This thread's counters at one moment (meaningful only with [`CountingAlloc`] installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Allocations (and reallocations) made so far.
    pub allocations: u64,
    /// Heap bytes allocated and not yet freed.
    pub live_bytes: i64,
}

impl Snapshot {
    /// The counters now.
    pub fn now() -> Snapshot {
        Snapshot { allocations: ALLOCATIONS.with(Cell::get), live_bytes: LIVE_BYTES.with(Cell::get) }
    }

    /// Allocations made since `earlier`.
    pub fn allocations_since(&self, earlier: Snapshot) -> u64 {
        self.allocations.wrapping_sub(earlier.allocations)
    }

    /// Growth of live heap bytes since `earlier` (negative when memory was freed).
    pub fn bytes_since(&self, earlier: Snapshot) -> i64 {
        self.live_bytes.wrapping_sub(earlier.live_bytes)
    }
}
