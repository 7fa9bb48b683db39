//! sluice-wire against moqtap-codec 0.9 (draft-18), the same bytes and the same work on
//! both sides (`tests/codec_equivalence.rs` checks they read the same fields and write the
//! same bytes). Each module is one pair; `scripts/bench.sh` runs the pairs alternately
//! (A B A B) and prints the medians and ratios.
//!
//! * `subscribe_*`, `subscribe_ok_*`: one framed control message.
//! * `subgroup_read`: SUBGROUP_HEADER and 30 object headers, stepping over the 1200-byte
//!   payloads (neither side copies them).
//! * `subgroup_write`: SUBGROUP_HEADER and 30 whole objects into one buffer (the peer's
//!   writer takes the payload with the object, so both copy it here; sluice's own send
//!   path writes headers only and hands payloads over as `Bytes`).
//! * `subgroup_send`: each side's own send path for the same stream: sluice's inline
//!   header encode plus payload `Bytes` handoff (no copy) against the peer's only writer,
//!   which copies the payloads (see the module for why the work differs);
//!   `sluice_shared_block` is sluice's previous path (headers cut from a shared block).
//! * `fetch_read` / `fetch_write`: FETCH_HEADER and 30 fetch object headers (delta
//!   serialization resolved), payloads stepped over / not written.

#[path = "../peer/moqtap.rs"]
mod moqtap;

use divan::{Bencher, black_box};
use sluice_bench_compare::codec_fixtures as fx;
use sluice_wire::{Decode, Encode, Reader};

fn main() {
    divan::main();
}

mod subscribe_decode {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let bytes = fx::shared(fx::subscribe().encode_to_vec(fx::V18).unwrap());
        b.bench_local(|| {
            sluice_wire::moqt::message::Subscribe::decode(&mut Reader::new(black_box(&bytes)), fx::V18)
                .unwrap()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let bytes = fx::subscribe().encode_to_vec(fx::V18).unwrap();
        b.bench_local(|| super::moqtap::decode_control(black_box(&bytes)).unwrap());
    }

    /// `sluice` from a `Bytes::from_static` buffer, whose slices take no reference count:
    /// not part of the pair; the difference to `sluice` is what the four field slices'
    /// atomic increments cost (see docs/bench-compare.md).
    #[divan::bench]
    fn sluice_static_buffer(b: Bencher<'_, '_>) {
        let encoded: &'static [u8] = fx::subscribe().encode_to_vec(fx::V18).unwrap().leak();
        let bytes = bytes::Bytes::from_static(encoded);
        b.bench_local(|| {
            sluice_wire::moqt::message::Subscribe::decode(&mut Reader::new(black_box(&bytes)), fx::V18)
                .unwrap()
        });
    }
}

mod subscribe_encode {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let message = fx::subscribe();
        let mut out = Vec::with_capacity(256);
        b.bench_local(|| {
            out.clear();
            black_box(&message).encode_into_vec(&mut out, fx::V18).unwrap();
            out.len()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let message =
            super::moqtap::decode_control(&fx::subscribe().encode_to_vec(fx::V18).unwrap()).unwrap();
        let mut out = Vec::with_capacity(256);
        b.bench_local(|| {
            out.clear();
            super::moqtap::encode_control(black_box(&message), &mut out).unwrap();
            out.len()
        });
    }
}

mod subscribe_ok_decode {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let bytes = fx::shared(fx::subscribe_ok().encode_to_vec(fx::V18).unwrap());
        b.bench_local(|| {
            sluice_wire::moqt::message::SubscribeOk::decode(&mut Reader::new(black_box(&bytes)), fx::V18)
                .unwrap()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let bytes = fx::subscribe_ok().encode_to_vec(fx::V18).unwrap();
        b.bench_local(|| super::moqtap::decode_control(black_box(&bytes)).unwrap());
    }
}

mod subscribe_ok_encode {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let message = fx::subscribe_ok();
        let mut out = Vec::with_capacity(256);
        b.bench_local(|| {
            out.clear();
            black_box(&message).encode_into_vec(&mut out, fx::V18).unwrap();
            out.len()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let message =
            super::moqtap::decode_control(&fx::subscribe_ok().encode_to_vec(fx::V18).unwrap()).unwrap();
        let mut out = Vec::with_capacity(256);
        b.bench_local(|| {
            out.clear();
            super::moqtap::encode_control(black_box(&message), &mut out).unwrap();
            out.len()
        });
    }
}

mod subgroup_read {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let bytes = fx::subgroup_stream().unwrap();
        b.bench_local(|| fx::walk_subgroup(black_box(&bytes)).unwrap());
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let bytes = fx::subgroup_stream().unwrap();
        b.bench_local(|| super::moqtap::walk_subgroup(black_box(&bytes)).unwrap());
    }
}

mod subgroup_write {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
        let mut out = Vec::with_capacity(64 * 1024);
        b.bench_local(|| {
            out.clear();
            fx::write_subgroup(black_box(&header), black_box(&objects), &mut out).unwrap();
            out.len()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let (header, objects) = super::moqtap::subgroup_objects(&fx::subgroup_stream().unwrap()).unwrap();
        let mut out = Vec::with_capacity(64 * 1024);
        b.bench_local(|| {
            out.clear();
            super::moqtap::write_subgroup(black_box(&header), black_box(&objects), &mut out).unwrap();
            out.len()
        });
    }
}

/// Each side's own way to get a subgroup stream ready for the transport: sluice encodes
/// the headers and hands the payload `Bytes` over (zero copy: its send path); the peer's
/// writer has no header-only form, so its best path copies each payload (the same code
/// as `subgroup_write::moqtap`). Not equal work by design: this is the cost of each API's
/// send path, not of the same operation.
mod subgroup_send {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
        let mut chunks = Vec::with_capacity(64);
        b.bench_local(|| {
            fx::send_subgroup(black_box(&header), black_box(&objects), &mut chunks).unwrap();
            chunks.len()
        });
    }

    /// `sluice` with payloads given away (as a publisher hands them to its session): the
    /// payload `Bytes` move instead of being cloned, and the chunks are dropped after the
    /// timing (by the transport, once written). Not part of the pair: it shows what the
    /// reference counts of the borrowed-payload path cost.
    #[divan::bench]
    fn sluice_owned(b: Bencher<'_, '_>) {
        let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
        b.with_inputs(|| (objects.clone(), Vec::with_capacity(64))).bench_local_values(
            |(objects, mut chunks)| {
                fx::send_subgroup_owned(black_box(&header), objects, &mut chunks).unwrap();
                chunks
            },
        );
    }

    /// The previous sluice path (the core's today): headers cut from a shared block as
    /// `Bytes`. Not part of the pair; the before figure for `sluice`.
    #[divan::bench]
    fn sluice_shared_block(b: Bencher<'_, '_>) {
        let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
        let mut scratch = bytes::BytesMut::new();
        let mut chunks = Vec::with_capacity(64);
        b.bench_local(|| {
            fx::send_subgroup_shared_block(
                black_box(&header),
                black_box(&objects),
                &mut scratch,
                &mut chunks,
            )
            .unwrap();
            chunks.len()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let (header, objects) = super::moqtap::subgroup_objects(&fx::subgroup_stream().unwrap()).unwrap();
        let mut out = Vec::with_capacity(64 * 1024);
        b.bench_local(|| {
            out.clear();
            super::moqtap::write_subgroup(black_box(&header), black_box(&objects), &mut out).unwrap();
            out.len()
        });
    }
}

mod fetch_read {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let bytes = fx::fetch_stream().unwrap();
        b.bench_local(|| fx::walk_fetch(black_box(&bytes)).unwrap());
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let bytes = fx::fetch_stream().unwrap();
        b.bench_local(|| super::moqtap::walk_fetch(black_box(&bytes)).unwrap());
    }
}

mod fetch_write {
    use super::*;

    #[divan::bench]
    fn sluice(b: Bencher<'_, '_>) {
        let headers = fx::fetch_headers();
        let mut out = Vec::with_capacity(1024);
        b.bench_local(|| {
            out.clear();
            fx::write_fetch_headers(black_box(&headers), &mut out).unwrap();
            out.len()
        });
    }

    #[divan::bench]
    fn moqtap(b: Bencher<'_, '_>) {
        let (header, objects) = super::moqtap::read_fetch(&fx::fetch_stream().unwrap()).unwrap();
        let mut out = Vec::with_capacity(1024);
        b.bench_local(|| {
            out.clear();
            super::moqtap::write_fetch_headers(black_box(&header), black_box(&objects), &mut out).unwrap();
            out.len()
        });
    }
}
