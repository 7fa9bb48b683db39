//! A tiny stderr logger for `-v`: one global switch and the [`crate::vlog!`] macro, so the
//! command line needs no logging framework. Lines carry the seconds since the process
//! started, which is what one wants when reading a relay/publisher/subscriber trace.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static VERBOSE: AtomicBool = AtomicBool::new(false);
static START: OnceLock<Instant> = OnceLock::new();

/// Turns verbose logging on or off.
pub fn set_verbose(on: bool) {
    START.get_or_init(Instant::now);
    VERBOSE.store(on, Ordering::Relaxed);
}

/// True when `-v` was given.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Seconds since logging was set up.
pub fn elapsed() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// `eprintln!` with a timestamp, only when verbose.
#[macro_export]
macro_rules! vlog {
    ($($arg:tt)*) => {
        if $crate::log::verbose() {
            eprintln!("[{:8.3}] {}", $crate::log::elapsed(), format!($($arg)*));
        }
    };
}
