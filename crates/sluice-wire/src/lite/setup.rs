//! lite-05 SETUP, the only message of the unidirectional Setup stream (lite-05 §SETUP,
//! §Setup, §Probe Parameter, §Path Parameter). lite-04 has no SETUP.
//!
//! ```text
//! SETUP { Message Length (i), Parameter Count (i),
//!         Setup Parameter { Parameter ID (i), Parameter Length (i), Parameter Value (..) } ... }
//! ```
//! Known parameters: 0x1 Probe (a varint level), 0x2 Path (UTF-8). Unknown IDs MUST be
//! ignored by the receiver; sluice keeps them as [`SetupParameter::Unknown`] with their raw
//! value so a decoded SETUP re-encodes unchanged. A Parameter ID appearing twice (known or
//! not) is [`Violation::DuplicateSetupParameter`] (the draft: PROTOCOL_VIOLATION).
//!
//! Ambiguity resolved: the parameter table writes the Path value as `Path (s)`, while the
//! text says "The Parameter Value is a non-empty UTF-8 string". sluice follows the text:
//! the Parameter Value *is* the UTF-8 bytes (no second length prefix inside it), as the
//! Probe value *is* the varint. The codec checks the Path is non-empty and begins with `/`
//! (the draft's PROTOCOL_VIOLATION cases that need no policy); who may send it, and whether
//! the server recognises it, are session rules.

use std::collections::BTreeSet;

use bytes::{BufMut, Bytes};

use crate::error::{DecodeResult, EncodeError, Violation};
use crate::lite::framing::{MAX_MESSAGE_LEN, decode_message, encode_message, require};
use crate::reader::Reader;
use crate::version::LiteVersion;
use crate::{Decode, Encode, VarintKind, varint};

/// Parameter ID of the Probe parameter.
pub const PARAM_PROBE: u64 = 0x1;
/// Parameter ID of the Path parameter.
pub const PARAM_PATH: u64 = 0x2;

/// The Probe capability level (lite-05 §Probe Parameter); each level includes the one below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProbeLevel {
    /// 0: no probing (same as omitting the parameter).
    None,
    /// 1: measures and reports the estimated bitrate.
    Report,
    /// 2: also pads the connection up to the subscriber's target.
    Increase,
}

impl ProbeLevel {
    /// The wire value.
    pub const fn code(self) -> u64 {
        match self {
            ProbeLevel::None => 0,
            ProbeLevel::Report => 1,
            ProbeLevel::Increase => 2,
        }
    }

    /// The level a wire value names; other values are [`Violation::InvalidValue`].
    pub fn from_code(code: u64) -> Result<Self, Violation> {
        match code {
            0 => Ok(ProbeLevel::None),
            1 => Ok(ProbeLevel::Report),
            2 => Ok(ProbeLevel::Increase),
            value => Err(Violation::InvalidValue { field: "probe level", value }),
        }
    }
}

/// One Setup Parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetupParameter {
    /// 0x1 Probe.
    Probe(ProbeLevel),
    /// 0x2 Path: non-empty, begins with `/`.
    Path(String),
    /// Any other ID, with its value kept verbatim. `id` must not be a known ID.
    Unknown {
        /// The Parameter ID.
        id: u64,
        /// The raw Parameter Value.
        value: Bytes,
    },
}

impl SetupParameter {
    /// The Parameter ID.
    pub fn id(&self) -> u64 {
        match self {
            SetupParameter::Probe(_) => PARAM_PROBE,
            SetupParameter::Path(_) => PARAM_PATH,
            SetupParameter::Unknown { id, .. } => *id,
        }
    }

    fn decode_value(id: u64, value: &mut Reader<'_>) -> DecodeResult<Self> {
        match id {
            PARAM_PROBE => Ok(SetupParameter::Probe(ProbeLevel::from_code(value.quic_varint()?)?)),
            PARAM_PATH => {
                let raw = value.rest();
                let path = String::from_utf8(raw.to_vec())
                    .map_err(|_| Violation::InvalidUtf8 { field: "setup path" })?;
                check_path(&path)?;
                Ok(SetupParameter::Path(path))
            }
            id => Ok(SetupParameter::Unknown { id, value: value.rest() }),
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            SetupParameter::Probe(level) => varint::put_quic(out, level.code()),
            SetupParameter::Path(path) => {
                check_path(path)?;
                out.put_slice(path.as_bytes());
                Ok(())
            }
            SetupParameter::Unknown { id, value } => {
                if *id == PARAM_PROBE || *id == PARAM_PATH {
                    return Err(
                        Violation::InvalidValue { field: "unknown setup parameter id", value: *id }.into()
                    );
                }
                out.put_slice(value);
                Ok(())
            }
        }
    }
}

fn check_path(path: &str) -> Result<(), Violation> {
    if path.starts_with('/') { Ok(()) } else { Err(Violation::InvalidSetupPath) }
}

/// lite-05 SETUP: the sender's capabilities, parameters in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Setup {
    /// The parameters, each ID at most once.
    pub parameters: Vec<SetupParameter>,
}

impl Setup {
    /// The advertised Probe level (absent = [`ProbeLevel::None`]).
    pub fn probe(&self) -> ProbeLevel {
        self.parameters
            .iter()
            .find_map(|p| match p {
                SetupParameter::Probe(level) => Some(*level),
                _ => None,
            })
            .unwrap_or(ProbeLevel::None)
    }

    /// The Path parameter, if present.
    pub fn path(&self) -> Option<&str> {
        self.parameters.iter().find_map(|p| match p {
            SetupParameter::Path(path) => Some(path.as_str()),
            _ => None,
        })
    }
}

impl Decode for Setup {
    type Version = LiteVersion;

    fn decode(r: &mut Reader<'_>, version: LiteVersion) -> DecodeResult<Self> {
        require(version == LiteVersion::Lite05, "SETUP")?;
        decode_message(r, |b| {
            let count = b.quic_varint()?;
            // Every parameter takes at least two bytes, so a count above what the body holds
            // is wrong before any parameter is read.
            b.check_len("setup parameter count", count, MAX_MESSAGE_LEN)?;
            let mut seen = BTreeSet::new();
            let mut parameters = Vec::new();
            for _ in 0..count {
                let id = b.quic_varint()?;
                if !seen.insert(id) {
                    return Err(Violation::DuplicateSetupParameter { id }.into());
                }
                let len = b.quic_varint()?;
                let n = b.check_len("setup parameter value", len, MAX_MESSAGE_LEN)?;
                let mut value = b.body(n)?;
                let parameter = SetupParameter::decode_value(id, &mut value)?;
                value.finish()?;
                parameters.push(parameter);
            }
            Ok(Setup { parameters })
        })
    }
}

impl Encode for Setup {
    type Version = LiteVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, version: LiteVersion) -> Result<(), EncodeError> {
        require(version == LiteVersion::Lite05, "SETUP")?;
        encode_message(buf, |out| {
            varint::put_quic(out, self.parameters.len() as u64)?;
            let mut seen = BTreeSet::new();
            for parameter in &self.parameters {
                let id = parameter.id();
                if !seen.insert(id) {
                    return Err(Violation::DuplicateSetupParameter { id }.into());
                }
                let mut value = Vec::new();
                parameter.encode_value(&mut value)?;
                varint::put_quic(out, id)?;
                varint::put_len_prefixed(out, VarintKind::Quic, &value)?;
            }
            Ok(())
        })
    }
}
