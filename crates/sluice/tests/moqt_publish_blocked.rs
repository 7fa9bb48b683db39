//! PUBLISH_BLOCKED (draft-18 §"PUBLISH_BLOCKED"): the publisher's answer, on a
//! SUBSCRIBE_TRACKS stream, for a matching track it will not PUBLISH; the namespace travels
//! as the suffix after the request's prefix and arrives whole at the requester.

use sluice::{CommandError, Config, Event, MoqtVersion, Namespace, TrackName, Version};
use sluice_sim::{Pair, Side};

#[test]
fn publish_blocked_reaches_the_track_discoverer_with_the_full_track_name() {
    let mut p = Pair::new(Version::Moqt(MoqtVersion::Draft18), Config::default(), Config::default());
    p.take_events(Side::Client);
    p.take_events(Side::Server);
    let prefix = Namespace::from_fields(["live"]);
    let d = p.client.discover_tracks(prefix.clone()).unwrap();
    p.run();
    let request = match p.take_events(Side::Server).as_slice() {
        [Event::IncomingTrackDiscovery { request, prefix: got, .. }] => {
            assert_eq!(*got, prefix);
            *request
        }
        other => panic!("expected IncomingTrackDiscovery, got {other:?}"),
    };
    let blocked = TrackName::new(Namespace::from_fields(["live", "room-9"]), "audio");
    p.server.publish_blocked(request, blocked.clone()).unwrap();
    p.run();
    assert_eq!(p.take_events(Side::Client), vec![Event::PublishBlocked { request: d, track: blocked }]);

    // A track outside the prefix cannot be reported, and nothing is sent.
    let outside = TrackName::new(Namespace::from_fields(["vod", "x"]), "audio");
    assert_eq!(
        p.server.publish_blocked(request, outside),
        Err(CommandError::InvalidState("the track is not under the request's prefix"))
    );
    assert_eq!(p.server.poll(), None);
    // Only the answerer of a SUBSCRIBE_TRACKS can send it.
    assert_eq!(
        p.client.publish_blocked(d, TrackName::new(prefix, "t")),
        Err(CommandError::UnknownRequest(d))
    );
}
