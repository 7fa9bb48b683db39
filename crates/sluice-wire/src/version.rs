//! Wire versions and their ALPN identifiers.
//!
//! Version negotiation in every family sluice speaks is by ALPN (or the WebTransport
//! subprotocol carrying the same string). Each family has its own version enum so that a
//! value of one family can never be encoded in the other; [`Version`] joins them for
//! negotiation.

use crate::varint::VarintKind;

/// A moq-lite version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum LiteVersion {
    /// draft-lcurley-moq-lite-04 (what gomoqt speaks).
    Lite04,
    /// draft-lcurley-moq-lite-05.
    Lite05,
}

/// An IETF MOQT version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum MoqtVersion {
    /// draft-ietf-moq-transport-18.
    Draft18,
}

/// Any version sluice speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The moq-lite family.
    Lite(LiteVersion),
    /// The IETF MOQT family.
    Moqt(MoqtVersion),
}

impl LiteVersion {
    /// Every lite version, newest first (sluice's preference order).
    pub const ALL: [LiteVersion; 2] = [LiteVersion::Lite05, LiteVersion::Lite04];

    /// The ALPN / WebTransport protocol string.
    pub const fn alpn(self) -> &'static str {
        match self {
            LiteVersion::Lite04 => "moq-lite-04",
            LiteVersion::Lite05 => "moq-lite-05",
        }
    }
}

impl MoqtVersion {
    /// Every MOQT version, newest first.
    pub const ALL: [MoqtVersion; 1] = [MoqtVersion::Draft18];

    /// The ALPN / WebTransport protocol string.
    pub const fn alpn(self) -> &'static str {
        match self {
            MoqtVersion::Draft18 => "moqt-18",
        }
    }

    /// The varint encoding of this version.
    pub const fn varint(self) -> VarintKind {
        match self {
            MoqtVersion::Draft18 => VarintKind::Vi64,
        }
    }
}

impl Version {
    /// Every version, in sluice's default preference order.
    pub const ALL: [Version; 3] = [
        Version::Lite(LiteVersion::Lite05),
        Version::Lite(LiteVersion::Lite04),
        Version::Moqt(MoqtVersion::Draft18),
    ];

    /// The ALPN / WebTransport protocol string.
    pub const fn alpn(self) -> &'static str {
        match self {
            Version::Lite(v) => v.alpn(),
            Version::Moqt(v) => v.alpn(),
        }
    }

    /// The version an ALPN string names, if sluice speaks it.
    pub fn from_alpn(alpn: &[u8]) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.alpn().as_bytes() == alpn)
    }

    /// The varint encoding of this version.
    pub const fn varint(self) -> VarintKind {
        match self {
            Version::Lite(_) => VarintKind::Quic,
            Version::Moqt(v) => v.varint(),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.alpn())
    }
}

impl From<LiteVersion> for Version {
    fn from(v: LiteVersion) -> Self {
        Version::Lite(v)
    }
}

impl From<MoqtVersion> for Version {
    fn from(v: MoqtVersion) -> Self {
        Version::Moqt(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_roundtrips_for_every_version() {
        for v in Version::ALL {
            assert_eq!(Version::from_alpn(v.alpn().as_bytes()), Some(v));
        }
        assert_eq!(Version::from_alpn(b"moq-00"), None);
        assert_eq!(Version::from_alpn(b"h3"), None);
    }
}
