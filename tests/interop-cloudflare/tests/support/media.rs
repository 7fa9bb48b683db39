//! The test media: one namespace, deterministic per-object payloads that both sides can
//! regenerate, so receivers check every byte.

/// The namespace every case uses (one field per `/` segment).
pub const NAMESPACE: &str = "interop/cf";
/// The track every case publishes.
pub const TRACK: &str = "track";

/// The payload of object (`group`, `object`): its coordinates, then filler derived from them,
/// 64..=191 bytes long so lengths differ between objects.
pub fn payload(group: u64, object: u64) -> Vec<u8> {
    let mut bytes = format!("g{group}o{object}:").into_bytes();
    let len = 64 + ((group * 31 + object * 17) % 128) as usize;
    let mut x = (group << 32) ^ object ^ 0x9e37_79b9_7f4a_7c15;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push(x as u8);
    }
    bytes
}

/// Checks that `got` is exactly the objects `expected`, byte for byte, each group's objects
/// in order. Groups travel on separate streams, so their relative order is not checked
/// (draft-18 §2.2 orders objects only within a subgroup).
pub fn check(got: &[(u64, u64, bytes::Bytes)], expected: &[(u64, u64)]) -> Result<(), String> {
    let mut coords: Vec<(u64, u64)> = got.iter().map(|(g, o, _)| (*g, *o)).collect();
    coords.sort_by_key(|(g, _)| *g); // stable: keeps each group's arrival order
    if coords != expected {
        return Err(format!("objects arrived as {coords:?}, expected {expected:?}"));
    }
    for (g, o, p) in got {
        if p[..] != payload(*g, *o)[..] {
            return Err(format!("payload of ({g}, {o}) differs ({} bytes)", p.len()));
        }
    }
    Ok(())
}

/// Every (group, object) of `groups` × `0..objects`, in order.
pub fn coords(groups: std::ops::Range<u64>, objects: u64) -> Vec<(u64, u64)> {
    groups.flat_map(|g| (0..objects).map(move |o| (g, o))).collect()
}
