//! The peer codec's side of the comparison: `moqtap-codec` 0.9 (feature `draft18`) doing the
//! same work as the sluice-wire calls in `benches/codec_compare.rs`. Included by that
//! benchmark and by `tests/codec_equivalence.rs` (which checks that it reads the same
//! fields and writes the same bytes), so both measure exactly this code.

#![allow(dead_code)] // each includer uses a different subset

use bytes::Buf;
use moqtap_codec::draft18::data_stream::{
    FetchHeader, FetchObject, FetchObjectReader, FetchObjectWriter, GroupOrder, SubgroupHeader,
    SubgroupObject, SubgroupObjectMeta, SubgroupObjectReader,
};
use moqtap_codec::draft18::message::ControlMessage;
use moqtap_codec::error::CodecError;

/// Decodes one framed control message.
pub fn decode_control(mut bytes: &[u8]) -> Result<ControlMessage, CodecError> {
    ControlMessage::decode(&mut bytes)
}

/// Encodes one framed control message after `out`'s current contents.
pub fn encode_control(message: &ControlMessage, out: &mut Vec<u8>) -> Result<(), CodecError> {
    message.encode(out)
}

/// Reads a subgroup stream: the header, then every object's framing without copying its
/// payload (`read_object_meta`: the header-only read this codec offers).
pub fn read_subgroup(mut bytes: &[u8]) -> Result<(SubgroupHeader, Vec<SubgroupObjectMeta>), CodecError> {
    let header = SubgroupHeader::decode(&mut bytes)?;
    let mut reader = SubgroupObjectReader::new(&header);
    let mut objects = Vec::new();
    while bytes.has_remaining() {
        objects.push(reader.read_object_meta(&mut bytes)?);
    }
    Ok((header, objects))
}

/// [`read_subgroup`] without collecting: a checksum of the object ids and payload lengths.
pub fn walk_subgroup(mut bytes: &[u8]) -> Result<u64, CodecError> {
    let header = SubgroupHeader::decode(&mut bytes)?;
    let mut reader = SubgroupObjectReader::new(&header);
    let mut sum = header.group_id.into_inner();
    while bytes.has_remaining() {
        let meta = reader.read_object_meta(&mut bytes)?;
        sum = sum.wrapping_add(meta.object_id).wrapping_add(meta.payload_length);
    }
    Ok(sum)
}

/// Writes a subgroup stream: the header, then each whole object (this codec's writer takes
/// the payload with the object and copies it into `out`).
pub fn write_subgroup(
    header: &SubgroupHeader,
    objects: &[SubgroupObject],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    header.encode_checked(out)?;
    let mut writer = SubgroupObjectReader::new(header);
    for object in objects {
        writer.write_object(object, out)?;
    }
    Ok(())
}

/// The whole objects of a subgroup stream, payloads included, as this codec represents them.
pub fn subgroup_objects(mut bytes: &[u8]) -> Result<(SubgroupHeader, Vec<SubgroupObject>), CodecError> {
    let header = SubgroupHeader::decode(&mut bytes)?;
    let mut reader = SubgroupObjectReader::new(&header);
    let mut objects = Vec::new();
    while bytes.has_remaining() {
        objects.push(reader.read_object(&mut bytes)?);
    }
    Ok((header, objects))
}

/// Reads a fetch stream: FETCH_HEADER, then every object header with its fields resolved,
/// skipping each payload.
pub fn read_fetch(mut bytes: &[u8]) -> Result<(FetchHeader, Vec<FetchObject>), CodecError> {
    let header = FetchHeader::decode(&mut bytes)?;
    let mut reader = FetchObjectReader::new(GroupOrder::Ascending);
    let mut objects = Vec::new();
    while bytes.has_remaining() {
        let object = reader.read_object_header(&mut bytes)?;
        skip_payload(&mut bytes, object.header.payload_length.into_inner())?;
        objects.push(object);
    }
    Ok((header, objects))
}

/// [`read_fetch`] without collecting: a checksum of the resolved ids and payload lengths.
pub fn walk_fetch(mut bytes: &[u8]) -> Result<u64, CodecError> {
    let header = FetchHeader::decode(&mut bytes)?;
    let mut reader = FetchObjectReader::new(GroupOrder::Ascending);
    let mut sum = header.request_id.into_inner();
    while bytes.has_remaining() {
        let object = reader.read_object_header(&mut bytes)?;
        let len = object.header.payload_length.into_inner();
        skip_payload(&mut bytes, len)?;
        sum = sum.wrapping_add(object.group_id).wrapping_add(object.object_id).wrapping_add(len);
    }
    Ok(sum)
}

fn skip_payload(bytes: &mut &[u8], len: u64) -> Result<(), CodecError> {
    let len = usize::try_from(len).map_err(|_| CodecError::UnexpectedEnd)?;
    if bytes.remaining() < len {
        return Err(CodecError::UnexpectedEnd);
    }
    bytes.advance(len);
    Ok(())
}

/// Writes FETCH_HEADER and every object header (no payloads) of `objects`.
pub fn write_fetch_headers(
    header: &FetchHeader,
    objects: &[FetchObject],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    header.encode(out);
    let mut writer = FetchObjectWriter::new(GroupOrder::Ascending);
    for object in objects {
        writer.write_object_header(object, out)?;
    }
    Ok(())
}
