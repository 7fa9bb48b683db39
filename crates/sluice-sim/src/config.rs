//! [`LinkConfig`]: the conditions of one simulated link (latency, jitter, bandwidth,
//! flow-control windows, datagram loss and reordering). What each one means for the
//! traffic is described in [`crate::link`].

use std::time::Duration;

/// The conditions of one connection's link (the same in both directions).
///
/// [`LinkConfig::perfect`] (also the `Default`) is instant, unlimited and lossless; the
/// `with_*` methods add impairments.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub latency: Duration,
    /// Extra one-way delay drawn uniformly from `0..=jitter` per chunk and per datagram
    /// (streams stay in order regardless).
    pub jitter: Duration,
    /// Bytes per second each direction can carry; `None` is unlimited.
    pub bandwidth: Option<u64>,
    /// Largest chunk of stream data sent in one go when bandwidth is limited (the
    /// granularity at which a higher-priority stream can overtake).
    pub packet_size: usize,
    /// Per-stream flow-control window in bytes; `None` is unlimited.
    pub stream_window: Option<u64>,
    /// Per-connection flow-control window in bytes (all streams of one direction);
    /// `None` is unlimited.
    pub connection_window: Option<u64>,
    /// Probability that a datagram is lost.
    pub datagram_loss: f64,
    /// Probability that a datagram is held back by `reorder_delay`.
    pub datagram_reorder: f64,
    /// Extra delay of a reordered datagram.
    pub reorder_delay: Duration,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig::perfect()
    }
}

impl LinkConfig {
    /// An instant, unlimited, lossless link.
    pub fn perfect() -> LinkConfig {
        LinkConfig {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            bandwidth: None,
            packet_size: 1200,
            stream_window: None,
            connection_window: None,
            datagram_loss: 0.0,
            datagram_reorder: 0.0,
            reorder_delay: Duration::ZERO,
        }
    }

    /// Sets the one-way latency.
    pub fn with_latency(mut self, latency: Duration) -> LinkConfig {
        self.latency = latency;
        self
    }

    /// Sets the jitter.
    pub fn with_jitter(mut self, jitter: Duration) -> LinkConfig {
        self.jitter = jitter;
        self
    }

    /// Limits each direction to `bytes_per_second` (at least 1).
    pub fn with_bandwidth(mut self, bytes_per_second: u64) -> LinkConfig {
        self.bandwidth = Some(bytes_per_second.max(1));
        self
    }

    /// Sets the packet size used when bandwidth is limited (at least 1).
    pub fn with_packet_size(mut self, bytes: usize) -> LinkConfig {
        self.packet_size = bytes.max(1);
        self
    }

    /// Sets the per-stream flow-control window.
    pub fn with_stream_window(mut self, bytes: u64) -> LinkConfig {
        self.stream_window = Some(bytes);
        self
    }

    /// Sets the per-connection flow-control window.
    pub fn with_connection_window(mut self, bytes: u64) -> LinkConfig {
        self.connection_window = Some(bytes);
        self
    }

    /// Sets the datagram loss probability.
    pub fn with_datagram_loss(mut self, probability: f64) -> LinkConfig {
        self.datagram_loss = probability;
        self
    }

    /// Holds back each datagram by `delay` with probability `probability`.
    pub fn with_datagram_reorder(mut self, probability: f64, delay: Duration) -> LinkConfig {
        self.datagram_reorder = probability;
        self.reorder_delay = delay;
        self
    }

    /// Time to serialise `len` bytes (rounded up to a whole microsecond).
    pub(crate) fn transmit_time(&self, len: usize) -> Duration {
        match self.bandwidth {
            None => Duration::ZERO,
            Some(bw) => {
                let micros = (len as u128 * 1_000_000).div_ceil(u128::from(bw.max(1)));
                Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
            }
        }
    }
}
