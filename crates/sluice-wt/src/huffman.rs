//! Decoding of the HPACK/QPACK Huffman code (RFC 7541 §5.2, Appendix B; used by QPACK per
//! RFC 9204 §4.1.2). Browsers Huffman-code the strings of their CONNECT requests, so a
//! WebTransport server must decode them; sluice-wt never encodes with it.
//!
//! The code is canonical, so the table is only each symbol's code length; codes are
//! rebuilt by counting (no tree, no allocation).

/// Why a Huffman string did not decode (RFC 7541 §5.2: padding longer than 7 bits, padding
/// that is not the EOS prefix, or an EOS symbol are decoding errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HuffmanError;

/// Longest code length (EOS).
const MAX_LEN: usize = 30;

/// RFC 7541 Appendix B: the bit length of each symbol's code (0..=255, then EOS = 256).
/// The code is canonical (codes of one length are consecutive, in symbol order), so the
/// lengths alone define every code; `huffman::tests` checks a few against the RFC's listed codes.
pub(crate) const CODE_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6,
    6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7,
    8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7,
    15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24,
    23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23,
    23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26,
    26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20,
    21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27,
    27, 27, 26, 30,
];

/// Per code length: how many symbols have it, and the first (smallest) code of that length.
struct Canonical {
    count: [u32; MAX_LEN + 1],
    first: [u32; MAX_LEN + 1],
    /// Index into `SORTED` of the first symbol of each length.
    offset: [u16; MAX_LEN + 1],
}

#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const fn canonical() -> Canonical {
    let mut count = [0u32; MAX_LEN + 1];
    let mut i = 0;
    while i < 257 {
        count[CODE_LENGTHS[i] as usize] += 1;
        i += 1;
    }
    let mut first = [0u32; MAX_LEN + 1];
    let mut offset = [0u16; MAX_LEN + 1];
    let mut code = 0u32;
    let mut seen = 0u16;
    let mut len = 1;
    while len <= MAX_LEN {
        first[len] = code;
        offset[len] = seen;
        code = (code + count[len]) << 1;
        seen += count[len] as u16;
        len += 1;
    }
    Canonical { count, first, offset }
}

/// Symbols sorted by (code length, symbol): the canonical code order.
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const fn sorted() -> [u16; 257] {
    let mut out = [0u16; 257];
    let mut n = 0;
    let mut len = 1;
    while len <= MAX_LEN {
        let mut sym = 0;
        while sym < 257 {
            if CODE_LENGTHS[sym] as usize == len {
                out[n] = sym as u16;
                n += 1;
            }
            sym += 1;
        }
        len += 1;
    }
    out
}

const CANONICAL: Canonical = canonical();
const SORTED: [u16; 257] = sorted();
const EOS: u16 = 256;

/// Decodes a Huffman-coded string, appending to `out`.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let mut code: u32 = 0;
    let mut len: usize = 0;
    for byte in input {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            let count = CANONICAL.count.get(len).copied().ok_or(HuffmanError)?;
            let first = CANONICAL.first.get(len).copied().ok_or(HuffmanError)?;
            if count > 0 && code >= first && code - first < count {
                let at = usize::from(CANONICAL.offset.get(len).copied().ok_or(HuffmanError)?)
                    + (code - first) as usize;
                let symbol = SORTED.get(at).copied().ok_or(HuffmanError)?;
                if symbol == EOS {
                    return Err(HuffmanError);
                }
                out.push(u8::try_from(symbol).map_err(|_| HuffmanError)?);
                code = 0;
                len = 0;
            } else if len >= MAX_LEN {
                return Err(HuffmanError);
            }
        }
    }
    // Padding: at most 7 bits, all ones (the most significant bits of EOS).
    if len > 7 || code != (1u32 << len) - 1 {
        return Err(HuffmanError);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(hex: &str) -> Result<Vec<u8>, HuffmanError> {
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let mut out = Vec::new();
        decode(&bytes, &mut out).map(|()| out)
    }

    /// The code of `symbol` rebuilt from the canonical table.
    fn code_of(symbol: u16) -> (u32, u8) {
        let len = CODE_LENGTHS[symbol as usize];
        let from = CANONICAL.offset[len as usize] as usize;
        let rank = SORTED[from..].iter().position(|s| *s == symbol).unwrap();
        (CANONICAL.first[len as usize] + rank as u32, len)
    }

    #[test]
    fn codes_match_rfc7541_appendix_b() {
        // Rows of Appendix B: '0' (48), 'a' (97), ' ' (32), NUL (0), 255, EOS (256).
        assert_eq!(code_of(48), (0x0, 5));
        assert_eq!(code_of(97), (0x3, 5));
        assert_eq!(code_of(32), (0x14, 6));
        assert_eq!(code_of(0), (0x1ff8, 13));
        assert_eq!(code_of(255), (0x3ff_ffee, 26));
        assert_eq!(code_of(256), (0x3fff_ffff, 30));
    }

    #[test]
    fn rfc7541_c4_request_strings() {
        // RFC 7541 C.4.1..C.4.3: the Huffman-coded literals of the three requests.
        assert_eq!(decoded("f1e3c2e5f23a6ba0ab90f4ff").unwrap(), b"www.example.com");
        assert_eq!(decoded("a8eb10649cbf").unwrap(), b"no-cache");
        assert_eq!(decoded("25a849e95ba97d7f").unwrap(), b"custom-key");
        assert_eq!(decoded("25a849e95bb8e8b4bf").unwrap(), b"custom-value");
    }

    #[test]
    fn bad_padding_and_eos_are_errors() {
        // 'a' (00011) then 111: valid padding; then 000: padding that is not all ones.
        assert_eq!(decoded("1f").unwrap(), b"a");
        assert_eq!(decoded("18"), Err(HuffmanError));
        // 'a' (00011) then 11 ones: more than 7 bits of padding.
        assert_eq!(decoded("1fff"), Err(HuffmanError));
        // 32 ones: contains the whole EOS code.
        assert_eq!(decoded("ffffffff"), Err(HuffmanError));
        assert_eq!(decoded("").unwrap(), b"");
    }
}
