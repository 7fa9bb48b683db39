//! The sizes of the values the object path moves: every object goes through the output
//! queue twice (`Output::Write`, `Output::Event(Event::Object)`), so `Output` and `Event`
//! sizes are copy costs. Prints the sizes (`--nocapture`) and pins the ones that matter.

use std::mem::size_of;

use bytes::Bytes;
use sluice::{
    Event, HeaderBytes, Input, Location, Namespace, ObjectInfo, ObjectProperties, ObjectWrite, Output,
    Payload, Reason, Redirect, SubscribeOptions, TrackInfo, TrackName,
};

#[test]
fn object_path_type_sizes() {
    let sizes = [
        ("Output", size_of::<Output>()),
        ("Event", size_of::<Event>()),
        ("Input", size_of::<Input>()),
        ("ObjectWrite", size_of::<ObjectWrite>()),
        ("ObjectInfo", size_of::<ObjectInfo>()),
        ("Payload", size_of::<Payload>()),
        ("HeaderBytes", size_of::<HeaderBytes>()),
        ("TrackInfo", size_of::<TrackInfo>()),
        ("Result<TrackInfo, Reason>", size_of::<Result<TrackInfo, Reason>>()),
        ("SubscribeOptions", size_of::<SubscribeOptions>()),
        ("Option<Redirect>", size_of::<Option<Redirect>>()),
        ("Option<Duration>", size_of::<Option<std::time::Duration>>()),
        ("TrackName", size_of::<TrackName>()),
        ("Namespace", size_of::<Namespace>()),
        ("Reason", size_of::<Reason>()),
        ("Option<Location>", size_of::<Option<Location>>()),
    ];
    for (name, size) in sizes {
        println!("{name:>28}: {size:3} bytes");
    }
    assert_eq!(size_of::<Output>(), size_of::<Event>(), "Output's tag should fit in Event's niche");
    // `Event::Object` (request + ObjectInfo + Payload) is the largest variant; the large
    // fields of rarer events are boxed so that none outgrows it.
    assert_eq!(size_of::<ObjectInfo>(), 56);
    assert!(size_of::<Output>() <= 96, "Output grew: {} bytes", size_of::<Output>());
}

#[test]
fn object_properties_compare_as_bytes() {
    let raw = Bytes::from_static(&[0x02, 0x05]);
    let props = ObjectProperties::new(raw.clone());
    assert_eq!(props, raw);
    assert_eq!(&*props, &[0x02, 0x05]);
    assert_eq!(props.to_bytes(), raw);
    assert_eq!(props.clone().into_bytes(), raw);
    assert_ne!(props, ObjectProperties::empty());
    // Empty bytes are the empty value, however they were made.
    assert_eq!(ObjectProperties::new(Bytes::new()), ObjectProperties::empty());
    assert_eq!(ObjectProperties::from(Bytes::from(Vec::new())), ObjectProperties::default());
    assert!(ObjectProperties::empty().is_empty());
    assert_eq!(ObjectProperties::empty().to_bytes(), Bytes::new());
    assert_eq!(format!("{props:?}"), format!("{raw:?}"));
}
