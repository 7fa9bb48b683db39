//! QPACK field sections without a dynamic table (RFC 9204): the encoder uses static-table
//! references and plain literals (no Huffman); the decoder accepts every static-table and
//! literal representation, Huffman-coded or not, and refuses any dynamic-table reference
//! (sluice-wt advertises SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0, so a peer may not use one:
//! RFC 9204 §4.5.1.1, §2.2.3 → QPACK_DECOMPRESSION_FAILED).

use crate::huffman;

/// One decoded field line: (name, value), raw bytes.
pub type Field = (Vec<u8>, Vec<u8>);

/// Why a field section did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QpackError {
    /// Malformed or dynamic-table representation: QPACK_DECOMPRESSION_FAILED.
    Decompression(&'static str),
    /// The decoded section exceeds the limit (RFC 9114 §4.2.2 size: name + value + 32 per line).
    TooLarge,
}

/// Decodes a field section (the payload of a HEADERS frame). `max_size` bounds the decoded
/// size as RFC 9114 §4.2.2 counts it.
pub fn decode(mut input: &[u8], max_size: u64) -> Result<Vec<Field>, QpackError> {
    // Encoded Field Section Prefix (RFC 9204 §4.5.1): Required Insert Count, then S + Delta Base.
    let (required_insert_count, rest) = prefix_int(input, 8)?;
    if required_insert_count != 0 {
        return Err(QpackError::Decompression("dynamic table reference (Required Insert Count)"));
    }
    let (_delta_base, rest) = prefix_int(rest, 7)?;
    input = rest;
    let mut fields = Vec::new();
    let mut size: u64 = 0;
    while let Some(&first) = input.first() {
        let (field, rest) = if first & 0x80 != 0 {
            // Indexed Field Line (§4.5.2): 1 T index(6).
            if first & 0x40 == 0 {
                return Err(QpackError::Decompression("dynamic table index"));
            }
            let (index, rest) = prefix_int(input, 6)?;
            let (name, value) = static_entry(index)?;
            ((name.as_bytes().to_vec(), value.as_bytes().to_vec()), rest)
        } else if first & 0x40 != 0 {
            // Literal Field Line with Name Reference (§4.5.4): 01 N T index(4), value.
            if first & 0x10 == 0 {
                return Err(QpackError::Decompression("dynamic table name reference"));
            }
            let (index, rest) = prefix_int(input, 4)?;
            let (name, _) = static_entry(index)?;
            let (value, rest) = string(rest, 7)?;
            ((name.as_bytes().to_vec(), value), rest)
        } else if first & 0x20 != 0 {
            // Literal Field Line with Literal Name (§4.5.6): 001 N H len(3) name, value.
            let (name, rest) = string(input, 3)?;
            let (value, rest) = string(rest, 7)?;
            ((name, value), rest)
        } else {
            // 0001 (post-base index) and 0000 (post-base name reference) are dynamic.
            return Err(QpackError::Decompression("post-base (dynamic) reference"));
        };
        size = size.saturating_add(field.0.len() as u64 + field.1.len() as u64 + 32);
        if size > max_size {
            return Err(QpackError::TooLarge);
        }
        fields.push(field);
        input = rest;
    }
    Ok(fields)
}

fn static_entry(index: u64) -> Result<(&'static str, &'static str), QpackError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| STATIC_TABLE.get(i))
        .copied()
        .ok_or(QpackError::Decompression("static table index out of range"))
}

/// An integer with an N-bit prefix (RFC 7541 §5.1), starting in `input[0]`'s low bits.
fn prefix_int(input: &[u8], bits: u32) -> Result<(u64, &[u8]), QpackError> {
    let truncated = QpackError::Decompression("truncated integer");
    let (&first, mut rest) = input.split_first().ok_or(truncated)?;
    let max = (1u64 << bits) - 1;
    let mut value = u64::from(first) & max;
    if value < max {
        return Ok((value, rest));
    }
    let mut shift = 0u32;
    loop {
        let (&byte, tail) = rest.split_first().ok_or(truncated)?;
        rest = tail;
        if shift > 56 {
            return Err(QpackError::Decompression("integer overflow"));
        }
        value = value
            .checked_add(u64::from(byte & 0x7f) << shift)
            .ok_or(QpackError::Decompression("integer overflow"))?;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok((value, rest));
        }
    }
}

/// A string literal (RFC 9204 §4.1.2): H flag just above an N-bit length prefix.
fn string(input: &[u8], bits: u32) -> Result<(Vec<u8>, &[u8]), QpackError> {
    let &first = input.first().ok_or(QpackError::Decompression("truncated string"))?;
    let huffman = first & (1 << bits) != 0;
    let (len, rest) = prefix_int(input, bits)?;
    let len = usize::try_from(len).map_err(|_| QpackError::TooLarge)?;
    if len > rest.len() {
        return Err(QpackError::Decompression("truncated string"));
    }
    let (raw, rest) = rest.split_at(len);
    if huffman {
        let mut out = Vec::with_capacity(len + len / 2);
        huffman::decode(raw, &mut out).map_err(|_| QpackError::Decompression("bad Huffman string"))?;
        Ok((out, rest))
    } else {
        Ok((raw.to_vec(), rest))
    }
}

/// Encodes a field section: prefix 0x00 0x00 (no dynamic table), then each line as an
/// indexed static entry when (name, value) is in the table, a literal with a static name
/// reference when only the name is, else a literal with a literal name. No Huffman.
pub fn encode(fields: &[(&str, &str)], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x00, 0x00]);
    for (name, value) in fields {
        if let Some(index) = STATIC_TABLE.iter().position(|(n, v)| n == name && v == value) {
            put_prefix_int(out, 0xc0, 6, index as u64);
        } else if let Some(index) = STATIC_TABLE.iter().position(|(n, _)| n == name) {
            put_prefix_int(out, 0x50, 4, index as u64);
            put_string(out, 0x00, 7, value.as_bytes());
        } else {
            put_string(out, 0x20, 3, name.as_bytes());
            put_string(out, 0x00, 7, value.as_bytes());
        }
    }
}

fn put_prefix_int(out: &mut Vec<u8>, flags: u8, bits: u32, value: u64) {
    let max = (1u64 << bits) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

fn put_string(out: &mut Vec<u8>, flags: u8, bits: u32, bytes: &[u8]) {
    put_prefix_int(out, flags, bits, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// RFC 9204 Appendix A: the QPACK static table, index → (name, value).
pub(crate) const STATIC_TABLE: [(&str, &str); 99] = [
    (":authority", ""),                                                                   // 0
    (":path", "/"),                                                                       // 1
    ("age", "0"),                                                                         // 2
    ("content-disposition", ""),                                                          // 3
    ("content-length", "0"),                                                              // 4
    ("cookie", ""),                                                                       // 5
    ("date", ""),                                                                         // 6
    ("etag", ""),                                                                         // 7
    ("if-modified-since", ""),                                                            // 8
    ("if-none-match", ""),                                                                // 9
    ("last-modified", ""),                                                                // 10
    ("link", ""),                                                                         // 11
    ("location", ""),                                                                     // 12
    ("referer", ""),                                                                      // 13
    ("set-cookie", ""),                                                                   // 14
    (":method", "CONNECT"),                                                               // 15
    (":method", "DELETE"),                                                                // 16
    (":method", "GET"),                                                                   // 17
    (":method", "HEAD"),                                                                  // 18
    (":method", "OPTIONS"),                                                               // 19
    (":method", "POST"),                                                                  // 20
    (":method", "PUT"),                                                                   // 21
    (":scheme", "http"),                                                                  // 22
    (":scheme", "https"),                                                                 // 23
    (":status", "103"),                                                                   // 24
    (":status", "200"),                                                                   // 25
    (":status", "304"),                                                                   // 26
    (":status", "404"),                                                                   // 27
    (":status", "503"),                                                                   // 28
    ("accept", "*/*"),                                                                    // 29
    ("accept", "application/dns-message"),                                                // 30
    ("accept-encoding", "gzip, deflate, br"),                                             // 31
    ("accept-ranges", "bytes"),                                                           // 32
    ("access-control-allow-headers", "cache-control"),                                    // 33
    ("access-control-allow-headers", "content-type"),                                     // 34
    ("access-control-allow-origin", "*"),                                                 // 35
    ("cache-control", "max-age=0"),                                                       // 36
    ("cache-control", "max-age=2592000"),                                                 // 37
    ("cache-control", "max-age=604800"),                                                  // 38
    ("cache-control", "no-cache"),                                                        // 39
    ("cache-control", "no-store"),                                                        // 40
    ("cache-control", "public, max-age=31536000"),                                        // 41
    ("content-encoding", "br"),                                                           // 42
    ("content-encoding", "gzip"),                                                         // 43
    ("content-type", "application/dns-message"),                                          // 44
    ("content-type", "application/javascript"),                                           // 45
    ("content-type", "application/json"),                                                 // 46
    ("content-type", "application/x-www-form-urlencoded"),                                // 47
    ("content-type", "image/gif"),                                                        // 48
    ("content-type", "image/jpeg"),                                                       // 49
    ("content-type", "image/png"),                                                        // 50
    ("content-type", "text/css"),                                                         // 51
    ("content-type", "text/html; charset=utf-8"),                                         // 52
    ("content-type", "text/plain"),                                                       // 53
    ("content-type", "text/plain;charset=utf-8"),                                         // 54
    ("range", "bytes=0-"),                                                                // 55
    ("strict-transport-security", "max-age=31536000"),                                    // 56
    ("strict-transport-security", "max-age=31536000; includesubdomains"),                 // 57
    ("strict-transport-security", "max-age=31536000; includesubdomains; preload"),        // 58
    ("vary", "accept-encoding"),                                                          // 59
    ("vary", "origin"),                                                                   // 60
    ("x-content-type-options", "nosniff"),                                                // 61
    ("x-xss-protection", "1; mode=block"),                                                // 62
    (":status", "100"),                                                                   // 63
    (":status", "204"),                                                                   // 64
    (":status", "206"),                                                                   // 65
    (":status", "302"),                                                                   // 66
    (":status", "400"),                                                                   // 67
    (":status", "403"),                                                                   // 68
    (":status", "421"),                                                                   // 69
    (":status", "425"),                                                                   // 70
    (":status", "500"),                                                                   // 71
    ("accept-language", ""),                                                              // 72
    ("access-control-allow-credentials", "FALSE"),                                        // 73
    ("access-control-allow-credentials", "TRUE"),                                         // 74
    ("access-control-allow-headers", "*"),                                                // 75
    ("access-control-allow-methods", "get"),                                              // 76
    ("access-control-allow-methods", "get, post, options"),                               // 77
    ("access-control-allow-methods", "options"),                                          // 78
    ("access-control-expose-headers", "content-length"),                                  // 79
    ("access-control-request-headers", "content-type"),                                   // 80
    ("access-control-request-method", "get"),                                             // 81
    ("access-control-request-method", "post"),                                            // 82
    ("alt-svc", "clear"),                                                                 // 83
    ("authorization", ""),                                                                // 84
    ("content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"), // 85
    ("early-data", "1"),                                                                  // 86
    ("expect-ct", ""),                                                                    // 87
    ("forwarded", ""),                                                                    // 88
    ("if-range", ""),                                                                     // 89
    ("origin", ""),                                                                       // 90
    ("purpose", "prefetch"),                                                              // 91
    ("server", ""),                                                                       // 92
    ("timing-allow-origin", "*"),                                                         // 93
    ("upgrade-insecure-requests", "1"),                                                   // 94
    ("user-agent", ""),                                                                   // 95
    ("x-forwarded-for", ""),                                                              // 96
    ("x-frame-options", "deny"),                                                          // 97
    ("x-frame-options", "sameorigin"),                                                    // 98
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_table_spot_checks_against_rfc9204_appendix_a() {
        assert_eq!(STATIC_TABLE[0], (":authority", ""));
        assert_eq!(STATIC_TABLE[15], (":method", "CONNECT"));
        assert_eq!(STATIC_TABLE[23], (":scheme", "https"));
        assert_eq!(STATIC_TABLE[25], (":status", "200"));
        assert_eq!(STATIC_TABLE[98], ("x-frame-options", "sameorigin"));
    }

    #[test]
    fn prefix_integers_follow_rfc7541_c1() {
        // C.1.1: 10 with a 5-bit prefix is one byte; C.1.2: 1337 is 1f 9a 0a.
        let mut out = Vec::new();
        put_prefix_int(&mut out, 0, 5, 10);
        assert_eq!(out, [0x0a]);
        out.clear();
        put_prefix_int(&mut out, 0, 5, 1337);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
        assert_eq!(prefix_int(&out, 5).unwrap(), (1337, &[][..]));
        assert!(prefix_int(&[0x1f, 0x9a], 5).is_err());
    }

    #[test]
    fn huffman_literal_with_literal_name_decodes() {
        // 001 N=0 H=1 len=... : name "custom-key" Huffman (8 bytes, 3-bit prefix → 0x2f 0x01),
        // value "custom-value" Huffman (9 bytes → 0x89).
        let mut section = vec![0x00, 0x00, 0x2f, 0x01];
        section.extend_from_slice(&[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f]);
        section.push(0x89);
        section.extend_from_slice(&[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf]);
        let fields = decode(&section, 1 << 14).unwrap();
        assert_eq!(fields, vec![(b"custom-key".to_vec(), b"custom-value".to_vec())]);
    }

    #[test]
    fn dynamic_references_and_limits_are_refused() {
        // Required Insert Count 1.
        assert!(matches!(decode(&[0x01, 0x00], 1000), Err(QpackError::Decompression(_))));
        // Indexed line, T=0 (dynamic).
        assert!(matches!(decode(&[0x00, 0x00, 0x80], 1000), Err(QpackError::Decompression(_))));
        // Post-base index.
        assert!(matches!(decode(&[0x00, 0x00, 0x10], 1000), Err(QpackError::Decompression(_))));
        // Static index 99 is past the table.
        assert!(matches!(decode(&[0x00, 0x00, 0xff, 0x24], 1000), Err(QpackError::Decompression(_))));
        // :method CONNECT is 7 + 7 + 32 = 46 bytes by RFC 9114 §4.2.2.
        assert!(decode(&[0x00, 0x00, 0xcf], 46).is_ok());
        assert_eq!(decode(&[0x00, 0x00, 0xcf], 45), Err(QpackError::TooLarge));
    }
}
