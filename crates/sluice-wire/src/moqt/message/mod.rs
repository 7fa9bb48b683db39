//! The draft-18 control messages other than SETUP (draft-18 §10.4 to §10.20), one module
//! per family: session (GOAWAY), request outcomes (REQUEST_OK, REQUEST_ERROR,
//! REQUEST_UPDATE), subscriptions (SUBSCRIBE, SUBSCRIBE_OK, PUBLISH, PUBLISH_DONE,
//! TRACK_STATUS), fetches (FETCH, FETCH_OK) and namespace discovery (PUBLISH_NAMESPACE,
//! SUBSCRIBE_NAMESPACE, SUBSCRIBE_TRACKS, NAMESPACE, NAMESPACE_DONE, PUBLISH_BLOCKED).
//!
//! Each struct holds the message body's fields; the frame (type and length) is added by
//! [`crate::moqt::control`].

pub mod discovery;
pub mod fetch;
pub mod goaway;
pub mod request;
pub mod subscribe;

pub use discovery::{
    Namespace, NamespaceDone, PublishBlocked, PublishNamespace, SubscribeNamespace, SubscribeTracks,
};
pub use fetch::{Fetch, FetchKind, FetchOk};
pub use goaway::GoAway;
pub use request::{Redirect, RequestError, RequestOk, RequestUpdate};
pub use subscribe::{Publish, PublishDone, Subscribe, SubscribeOk, TrackStatus};
