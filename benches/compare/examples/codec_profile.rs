//! Runs one side of one codec pair of `benches/codec_compare.rs` in a plain loop, for
//! instruction-count profiling (`valgrind --tool=callgrind`), which is repeatable where
//! wall-clock timings on a shared machine are not:
//!
//! ```text
//! cargo build --release -p sluice-bench-compare --example codec_profile
//! valgrind --tool=callgrind target/release/examples/codec_profile subscribe_decode sluice 100000
//! ```
//! Arguments: the pair (as in the benchmark), the side (`sluice` or `moqtap`; for
//! `subgroup_send` also `sluice_shared_block`, the previous path), iterations.

#[path = "../peer/moqtap.rs"]
mod moqtap;

use std::hint::black_box;

use sluice_bench_compare::codec_fixtures as fx;
use sluice_wire::moqt::message::{Subscribe, SubscribeOk};
use sluice_wire::{Decode, Encode, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (pair, side) = match (args.get(1), args.get(2)) {
        (Some(p), Some(s)) => (p.as_str(), s.as_str()),
        _ => return Err("usage: codec_profile <pair> <sluice|moqtap> [iterations]".into()),
    };
    let n: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut sink = 0usize;
    match (pair, side) {
        ("subscribe_decode", "sluice") => {
            let bytes = fx::shared(fx::subscribe().encode_to_vec(fx::V18)?);
            for _ in 0..n {
                sink += Subscribe::decode(&mut Reader::new(black_box(&bytes)), fx::V18)?.request_id as usize;
            }
        }
        ("subscribe_ok_decode", "sluice") => {
            let bytes = fx::shared(fx::subscribe_ok().encode_to_vec(fx::V18)?);
            for _ in 0..n {
                sink +=
                    SubscribeOk::decode(&mut Reader::new(black_box(&bytes)), fx::V18)?.track_alias as usize;
            }
        }
        ("subscribe_decode" | "subscribe_ok_decode", "moqtap") => {
            let message = if pair == "subscribe_decode" {
                fx::subscribe().encode_to_vec(fx::V18)?
            } else {
                fx::subscribe_ok().encode_to_vec(fx::V18)?
            };
            for _ in 0..n {
                black_box(moqtap::decode_control(black_box(&message))?);
            }
        }
        ("subscribe_encode", "sluice") => {
            let message = fx::subscribe();
            for _ in 0..n {
                out.clear();
                black_box(&message).encode_into_vec(&mut out, fx::V18)?;
                sink += out.len();
            }
        }
        ("subscribe_ok_encode", "sluice") => {
            let message = fx::subscribe_ok();
            for _ in 0..n {
                out.clear();
                black_box(&message).encode_into_vec(&mut out, fx::V18)?;
                sink += out.len();
            }
        }
        ("subscribe_encode" | "subscribe_ok_encode", "moqtap") => {
            let bytes = if pair == "subscribe_encode" {
                fx::subscribe().encode_to_vec(fx::V18)?
            } else {
                fx::subscribe_ok().encode_to_vec(fx::V18)?
            };
            let message = moqtap::decode_control(&bytes)?;
            for _ in 0..n {
                out.clear();
                moqtap::encode_control(black_box(&message), &mut out)?;
                sink += out.len();
            }
        }
        ("subgroup_send", "sluice") => {
            let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
            let mut chunks = Vec::with_capacity(64);
            for _ in 0..n {
                fx::send_subgroup(black_box(&header), black_box(&objects), &mut chunks)?;
                sink += chunks.len();
            }
        }
        ("subgroup_send", "sluice_owned") => {
            // The clones are the caller's; `callgrind_annotate --inclusive=yes` separates
            // `send_subgroup_owned` from them.
            let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
            for _ in 0..n {
                let mut chunks = Vec::with_capacity(64);
                fx::send_subgroup_owned(black_box(&header), objects.clone(), &mut chunks)?;
                sink += black_box(chunks).len();
            }
        }
        ("subgroup_send", "sluice_shared_block") => {
            let (header, objects) = (fx::subgroup_header(), fx::subgroup_objects());
            let mut scratch = bytes::BytesMut::new();
            let mut chunks = Vec::with_capacity(64);
            for _ in 0..n {
                fx::send_subgroup_shared_block(
                    black_box(&header),
                    black_box(&objects),
                    &mut scratch,
                    &mut chunks,
                )?;
                sink += chunks.len();
            }
        }
        ("subgroup_send", "moqtap") => {
            let (header, objects) = moqtap::subgroup_objects(&fx::subgroup_stream()?)?;
            for _ in 0..n {
                out.clear();
                moqtap::write_subgroup(black_box(&header), black_box(&objects), &mut out)?;
                sink += out.len();
            }
        }
        _ => return Err(format!("unknown pair/side {pair} {side}").into()),
    }
    println!("{sink}");
    Ok(())
}
