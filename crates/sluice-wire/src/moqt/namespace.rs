//! Track Namespace and Full Track Name (draft-18 §2.4.1 "Track Naming").
//!
//! ```text
//! Track Namespace { Number of Fields (vi64), { Field Length (vi64), Field (..) } ... }
//! Full Track Name = Track Namespace, Track Name Length (vi64), Track Name (..)
//! ```
//! Rules, each a PROTOCOL_VIOLATION when broken: at most 32 fields (0 is allowed); every
//! field at least one byte; the namespace (sum of field lengths) and the full name (plus the
//! name length) at most 4096 bytes. All of them are checked from the length fields before
//! any byte is sliced. Fields and names are opaque bytes compared exactly.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError, Violation};
use crate::reader::Reader;
use crate::varint;
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// The most fields a Track Namespace may have (draft-18 §2.4.1).
pub const MAX_NAMESPACE_FIELDS: u64 = 32;
/// The most bytes a Track Namespace or a Full Track Name may have (draft-18 §2.4.1).
pub const MAX_FULL_NAME_LEN: u64 = 4096;

/// An ordered tuple of 0 to 32 non-empty byte fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackNamespace(pub Vec<Bytes>);

impl TrackNamespace {
    /// The empty namespace (0 fields).
    pub const fn empty() -> Self {
        TrackNamespace(Vec::new())
    }

    /// A namespace from byte-string fields.
    pub fn from_fields<I, F>(fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Into<Bytes>,
    {
        TrackNamespace(fields.into_iter().map(Into::into).collect())
    }

    /// The fields.
    pub fn fields(&self) -> &[Bytes] {
        &self.0
    }

    /// Sum of the field lengths, the namespace's length for the 4096-byte rule.
    pub fn byte_len(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, f| acc.saturating_add(f.len() as u64))
    }

    /// True when `self` begins with every field of `prefix`.
    pub fn starts_with(&self, prefix: &TrackNamespace) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// Checks the draft's rules, returning the namespace length.
    pub fn validate(&self) -> Result<u64, Violation> {
        let count = self.0.len() as u64;
        if count > MAX_NAMESPACE_FIELDS {
            return Err(Violation::TooManyNamespaceFields { count });
        }
        if self.0.iter().any(|f| f.is_empty()) {
            return Err(Violation::EmptyNamespaceField);
        }
        let len = self.byte_len();
        if len > MAX_FULL_NAME_LEN {
            return Err(Violation::TrackNamespaceTooLong { len });
        }
        Ok(len)
    }

    /// Reads a namespace, returning it with its length in bytes.
    pub(crate) fn decode_with_len(r: &mut Reader<'_>) -> Result<(Self, u64), DecodeError> {
        let count = r.vi64()?;
        if count > MAX_NAMESPACE_FIELDS {
            return Err(Violation::TooManyNamespaceFields { count }.into());
        }
        // At most 32, and each field takes two bytes or more, so the bytes present bound it.
        let presized = count.min((r.remaining() / 2) as u64);
        let mut fields = Vec::with_capacity(usize::try_from(presized).unwrap_or(0));
        let mut total = 0u64;
        for _ in 0..count {
            let len = r.vi64()?;
            if len == 0 {
                return Err(Violation::EmptyNamespaceField.into());
            }
            total = total.saturating_add(len);
            if total > MAX_FULL_NAME_LEN {
                return Err(Violation::TrackNamespaceTooLong { len: total }.into());
            }
            fields.push(r.checked_bytes("track namespace field", len, MAX_FULL_NAME_LEN)?);
        }
        Ok((TrackNamespace(fields), total))
    }

    /// Writes a namespace already validated.
    fn put<B: BufMut>(&self, buf: &mut B) {
        varint::put_vi64(buf, self.0.len() as u64);
        for f in &self.0 {
            varint::put_vi64(buf, f.len() as u64);
            buf.put_slice(f);
        }
    }
}

impl Encode for TrackNamespace {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        self.validate()?;
        self.put(buf);
        Ok(())
    }
}

impl Decode for TrackNamespace {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        Ok(Self::decode_with_len(r)?.0)
    }
}

/// A Track Namespace and a Track Name (possibly empty) together.
///
/// In NAMESPACE-family responses (PUBLISH_BLOCKED) the namespace is a suffix after the
/// request's prefix; the same encoding and limits apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FullTrackName {
    /// The namespace.
    pub namespace: TrackNamespace,
    /// The track name.
    pub name: Bytes,
}

impl FullTrackName {
    /// A full track name.
    pub fn new(namespace: TrackNamespace, name: impl Into<Bytes>) -> Self {
        FullTrackName { namespace, name: name.into() }
    }

    /// Checks the draft's rules, returning the full name's length.
    pub fn validate(&self) -> Result<u64, Violation> {
        let len = self.namespace.validate()?.saturating_add(self.name.len() as u64);
        if len > MAX_FULL_NAME_LEN {
            return Err(Violation::FullTrackNameTooLong { len });
        }
        Ok(len)
    }
}

impl Encode for FullTrackName {
    type Version = MoqtVersion;

    fn encode<B: BufMut>(&self, buf: &mut B, _version: MoqtVersion) -> Result<(), EncodeError> {
        self.validate()?;
        self.namespace.put(buf);
        varint::put_vi64(buf, self.name.len() as u64);
        buf.put_slice(&self.name);
        Ok(())
    }
}

impl Decode for FullTrackName {
    type Version = MoqtVersion;

    fn decode(r: &mut Reader<'_>, _version: MoqtVersion) -> Result<Self, DecodeError> {
        let (namespace, ns_len) = TrackNamespace::decode_with_len(r)?;
        let name_len = r.vi64()?;
        let total = ns_len.saturating_add(name_len);
        if total > MAX_FULL_NAME_LEN {
            return Err(Violation::FullTrackNameTooLong { len: total }.into());
        }
        Ok(FullTrackName { namespace, name: r.checked_bytes("track name", name_len, MAX_FULL_NAME_LEN)? })
    }
}
