//! Fuzz target bodies (feature `fuzzing`).
//!
//! Each `fuzz/fuzz_targets/*.rs` is a one-liner into a function here, so that stable
//! `cargo test` (tests/fuzz_corpus.rs) replays the committed corpus through the same code.
//!
//! Every stream target checks three oracles beyond "no panic":
//! 1. *Split consistency*: the stream decoded as it arrives in chunks (the chunk size comes
//!    from the input) yields exactly the values and the error of decoding it whole.
//! 2. *Re-encoding*: every decoded value encodes (the decoder never accepts what the encoder
//!    refuses) and decodes back to itself: decode → encode → decode is a fixpoint. This is
//!    how "arbitrary values encoded then decoded" is covered: the values come from the
//!    decoder, so they explore exactly the space a peer can reach.
//! 3. *Bounds*: a decoder never reports consuming more than it was given, nor nothing.
//!
//! The first input byte is a control byte (version, stream kind, direction, chunk size);
//! the rest is the stream or datagram.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use std::fmt::Debug;

use bytes::Bytes;

use crate::error::{DecodeError, DecodeResult};
use crate::{Decode, Encode, LiteVersion, MoqtVersion, Reader};
use crate::{lite, moqt};

/// Decodes one value, checks that it re-encodes to something that decodes back to it, and
/// returns its rendering for the split-consistency comparison.
fn roundtrip<T, V>(r: &mut Reader<'_>, version: V) -> DecodeResult<String>
where
    T: Decode<Version = V> + Encode<Version = V> + PartialEq + Debug,
    V: Copy + Debug,
{
    let value = T::decode(r, version)?;
    let encoded = match value.encode_to_vec(version) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => panic!("decoded {value:?} ({version:?}) but cannot re-encode it: {e}"),
    };
    let again = T::decode_exact(&encoded, version);
    assert_eq!(again.as_ref(), Ok(&value), "re-encoding of {value:?} decodes differently");
    Ok(format!("{value:?}"))
}

/// Like [`roundtrip`] for values that span a whole bounded input (datagrams).
fn roundtrip_bounded<T, V>(input: &Bytes, version: V)
where
    T: Decode<Version = V> + Encode<Version = V> + PartialEq + Debug,
    V: Copy + Debug,
{
    let mut r = Reader::bounded(input);
    if let Ok(value) = T::decode(&mut r, version) {
        assert_eq!(r.remaining(), 0, "a datagram decoder left bytes unread");
        let encoded = Bytes::from(value.encode_to_vec(version).expect("decoded datagram re-encodes"));
        let again = T::decode(&mut Reader::bounded(&encoded), version);
        assert_eq!(again.as_ref(), Ok(&value));
    }
}

/// The result of decoding a stream: the values read and the error that stopped it, if any
/// (running out of bytes at the end is not an error).
type StreamResult = (Vec<String>, Option<DecodeError>);

/// Decodes `data` as a stream arriving `chunk` bytes at a time with the restartable loop a
/// session uses: decode from the first unconsumed byte; on a value advance past it; on
/// `Incomplete` wait for the next chunk; on `Invalid` stop.
fn decode_stream(
    data: &Bytes,
    chunk: usize,
    step: &mut dyn FnMut(&mut Reader<'_>) -> DecodeResult<String>,
) -> StreamResult {
    let mut values = Vec::new();
    let mut consumed = 0;
    let mut available = 0;
    loop {
        available = (available + chunk.max(1)).min(data.len());
        while consumed < available {
            let window = data.slice(consumed..available);
            let mut r = Reader::new(&window);
            match step(&mut r) {
                Ok(v) => {
                    assert!(r.position() > 0, "a value was decoded from zero bytes");
                    assert!(r.position() <= window.len(), "decoder read past its input");
                    consumed += r.position();
                    values.push(v);
                }
                Err(DecodeError::Incomplete) => break,
                Err(e @ DecodeError::Invalid(_)) => return (values, Some(e)),
            }
        }
        if available == data.len() {
            return (values, None);
        }
    }
}

/// Runs the split-consistency oracle: chunked decoding equals whole decoding.
fn check_stream<F>(data: &Bytes, chunk: usize, make_step: impl Fn() -> F)
where
    F: FnMut(&mut Reader<'_>) -> DecodeResult<String>,
{
    let whole = decode_stream(data, data.len(), &mut make_step());
    let split = decode_stream(data, chunk, &mut make_step());
    assert_eq!(whole, split, "chunked decoding (chunk {chunk}) differs from whole decoding");
}

fn lite_version(control: u8) -> LiteVersion {
    if control & 1 == 0 { LiteVersion::Lite04 } else { LiteVersion::Lite05 }
}

/// A moq-lite stream: control byte bit 0 = version (04/05), bit 1 = response direction,
/// bit 2 = unidirectional, bits 3..8 = chunk size - 1.
pub fn lite_stream(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else { return };
    let version = lite_version(control);
    let response = control & 2 != 0;
    let uni = control & 4 != 0;
    let chunk = usize::from(control >> 3) + 1;
    let bytes = Bytes::copy_from_slice(rest);
    check_stream(&bytes, chunk, || lite_step(version, uni, response));
}

#[derive(Clone, Copy)]
enum LiteStream {
    Uni(lite::stream::UniStreamType),
    Bidi(lite::stream::BidiStreamType),
}

/// The decoder for the next value of a lite stream, given what came before.
fn lite_step(
    version: LiteVersion,
    uni: bool,
    response: bool,
) -> impl FnMut(&mut Reader<'_>) -> DecodeResult<String> {
    use lite::stream::{BidiStreamType as B, UniStreamType as U};
    let mut kind: Option<LiteStream> = None;
    let mut index = 0usize;
    move |r| {
        let rendered = match kind {
            None if uni => {
                let t = U::decode(r, version)?;
                kind = Some(LiteStream::Uni(t));
                return Ok(format!("{t:?}"));
            }
            None => {
                let t = B::decode(r, version)?;
                kind = Some(LiteStream::Bidi(t));
                return Ok(format!("{t:?}"));
            }
            Some(LiteStream::Uni(U::Group)) if index == 0 => roundtrip::<lite::group::Group, _>(r, version)?,
            Some(LiteStream::Uni(U::Group)) => roundtrip::<lite::group::Frame, _>(r, version)?,
            Some(LiteStream::Uni(U::Setup)) => roundtrip::<lite::setup::Setup, _>(r, version)?,
            Some(LiteStream::Bidi(t)) => match (t, response) {
                (B::Announce, false) => roundtrip::<lite::announce::AnnounceRequest, _>(r, version)?,
                (B::Announce, true) if index == 0 && version == LiteVersion::Lite05 => {
                    roundtrip::<lite::announce::AnnounceOk, _>(r, version)?
                }
                (B::Announce, true) => roundtrip::<lite::announce::AnnounceBroadcast, _>(r, version)?,
                (B::Subscribe, false) if index == 0 => {
                    roundtrip::<lite::subscribe::Subscribe, _>(r, version)?
                }
                (B::Subscribe, false) => roundtrip::<lite::subscribe::SubscribeUpdate, _>(r, version)?,
                (B::Subscribe, true) => roundtrip::<lite::subscribe::SubscribeResponse, _>(r, version)?,
                (B::Fetch, false) => roundtrip::<lite::fetch::Fetch, _>(r, version)?,
                (B::Fetch, true) => roundtrip::<lite::group::Frame, _>(r, version)?,
                (B::Probe, _) => roundtrip::<lite::probe::Probe, _>(r, version)?,
                (B::Goaway, _) => roundtrip::<lite::goaway::Goaway, _>(r, version)?,
                (B::Track, false) => roundtrip::<lite::track::Track, _>(r, version)?,
                (B::Track, true) => roundtrip::<lite::track::TrackInfo, _>(r, version)?,
            },
        };
        index += 1;
        Ok(rendered)
    }
}

/// A moq-lite datagram: control byte bit 0 = version; the rest is the datagram.
pub fn lite_datagram(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else { return };
    roundtrip_bounded::<lite::datagram::Datagram, _>(&Bytes::copy_from_slice(rest), lite_version(control));
}

/// Checks that a value read by a stateful decoder re-encodes with the matching stateful
/// encoder into exactly one value that decodes back to it.
fn reencode<T: PartialEq + Debug>(
    value: &T,
    encode: impl FnOnce(&mut Vec<u8>, &T) -> Result<(), crate::EncodeError>,
    decode: impl FnOnce(&mut Reader<'_>) -> DecodeResult<T>,
) {
    let mut out = Vec::new();
    if let Err(e) = encode(&mut out, value) {
        panic!("decoded {value:?} but cannot re-encode it: {e}");
    }
    let out = Bytes::from(out);
    let mut r = Reader::new(&out);
    assert_eq!(decode(&mut r).as_ref(), Ok(value), "re-encoding decodes differently");
    assert_eq!(r.remaining(), 0, "re-encoding left bytes over");
}

/// What a MOQT data stream turned out to be, with the decoder state for its objects and a
/// parallel encoder/decoder pair that re-encodes each object to check the fixpoint.
enum MoqtDataStream {
    Subgroup {
        decoder: moqt::subgroup::SubgroupObjectDecoder,
        encoder: moqt::subgroup::SubgroupObjectEncoder,
        check: moqt::subgroup::SubgroupObjectDecoder,
    },
    Fetch {
        decoder: moqt::fetch_stream::FetchObjectDecoder,
        encoder: moqt::fetch_stream::FetchObjectEncoder,
        check: moqt::fetch_stream::FetchObjectDecoder,
    },
    /// Padding or a control stream: nothing more is decoded here.
    Opaque,
}

/// A MOQT uni data stream: control byte bit 0 = fetch group order (ascending/descending),
/// bits 1..8 = chunk size - 1.
pub fn moqt_data_stream(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else { return };
    let order = if control & 1 == 0 {
        moqt::fetch_stream::GroupOrder::Ascending
    } else {
        moqt::fetch_stream::GroupOrder::Descending
    };
    let chunk = usize::from(control >> 1) + 1;
    check_stream(&Bytes::copy_from_slice(rest), chunk, || moqt_data_step(order));
}

fn moqt_data_step(
    order: moqt::fetch_stream::GroupOrder,
) -> impl FnMut(&mut Reader<'_>) -> DecodeResult<String> {
    use moqt::fetch_stream::{FetchObjectDecoder, FetchObjectEncoder};
    use moqt::stream_type::UniStreamType;
    use moqt::subgroup::{SubgroupHeader, SubgroupObjectDecoder, SubgroupObjectEncoder};
    const V: MoqtVersion = MoqtVersion::Draft18;
    let mut state: Option<MoqtDataStream> = None;
    move |r| match &mut state {
        None => {
            // Peek at the type, then read the whole header (type included) for real.
            let kind = UniStreamType::decode(&mut r.clone(), V)?;
            match kind {
                UniStreamType::Subgroup(_) => {
                    let rendered = roundtrip::<SubgroupHeader, _>(&mut r.clone(), V)?;
                    let header = SubgroupHeader::decode(r, V)?;
                    state = Some(MoqtDataStream::Subgroup {
                        decoder: SubgroupObjectDecoder::new(&header, V),
                        encoder: SubgroupObjectEncoder::new(&header, V),
                        check: SubgroupObjectDecoder::new(&header, V),
                    });
                    Ok(rendered)
                }
                UniStreamType::Fetch => {
                    let rendered = roundtrip::<moqt::fetch_stream::FetchHeader, _>(r, V)?;
                    state = Some(MoqtDataStream::Fetch {
                        decoder: FetchObjectDecoder::new(order, V),
                        encoder: FetchObjectEncoder::new(order, V),
                        check: FetchObjectDecoder::new(order, V),
                    });
                    Ok(rendered)
                }
                UniStreamType::Control | UniStreamType::Padding => {
                    UniStreamType::decode(r, V)?;
                    state = Some(MoqtDataStream::Opaque);
                    Ok(format!("{kind:?}"))
                }
            }
        }
        Some(MoqtDataStream::Subgroup { decoder, encoder, check }) => {
            let object = decoder.decode(r)?;
            reencode(&object, |out, v| encoder.encode(out, v), |r| check.decode(r));
            Ok(format!("{object:?}"))
        }
        Some(MoqtDataStream::Fetch { decoder, encoder, check }) => {
            let item = decoder.decode(r)?;
            reencode(&item, |out, v| encoder.encode(out, v), |r| check.decode(r));
            Ok(format!("{item:?}"))
        }
        // The rest of a padding or control stream is not this target's business.
        Some(MoqtDataStream::Opaque) => Err(DecodeError::Incomplete),
    }
}

/// A MOQT datagram (object or padding): the whole input is the datagram.
pub fn moqt_datagram(data: &[u8]) {
    roundtrip_bounded::<moqt::datagram::Datagram, _>(&Bytes::copy_from_slice(data), MoqtVersion::Draft18);
}

/// A MOQT control or request stream: a sequence of framed control messages of any type.
/// Control byte = chunk size - 1.
pub fn moqt_control(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else { return };
    let chunk = usize::from(control) + 1;
    check_stream(&Bytes::copy_from_slice(rest), chunk, || {
        |r: &mut Reader<'_>| roundtrip::<moqt::control::ControlMessage, _>(r, MoqtVersion::Draft18)
    });
}
