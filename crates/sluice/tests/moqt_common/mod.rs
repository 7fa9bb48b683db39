//! Shared helpers of the MOQT byte-level tests that drive one `Session` with raw peer bytes.
#![allow(dead_code)]

use bytes::Bytes;
use sluice::{MoqtVersion, Output};
use sluice_wire::moqt::control::ControlMessage;
use sluice_wire::{Decode, Reader};

/// The control messages (draft-18) written on `stream`, and whether a FIN followed.
pub fn written(out: &[Output], stream: u64) -> (Vec<ControlMessage>, bool) {
    let mut bytes = Vec::new();
    let mut fin = false;
    for o in out {
        if let Output::Write { stream: s, header, payload, fin: f } = o
            && s.0 == stream
        {
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(payload);
            fin |= *f;
        }
    }
    let buf = Bytes::from(bytes);
    let mut r = Reader::new(&buf);
    let mut msgs = Vec::new();
    while !r.is_empty() {
        msgs.push(ControlMessage::decode(&mut r, MoqtVersion::Draft18).unwrap());
    }
    (msgs, fin)
}
