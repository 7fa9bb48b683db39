//! How the relay names and reaches the sessions it drives.
//!
//! The relay never owns a socket, a runtime or (by default) the sessions themselves: the
//! caller's event loop owns each [`Session`] (an adapter connection, a `sluice_sim`
//! network endpoint, a map) and names it with a [`SessionId`] of its choosing. Whenever the
//! relay must issue a command it asks the caller for the session through [`Sessions`], so
//! the same relay logic runs under quinn, io_uring loops or the simulator.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use sluice::Session;

/// The caller's name for one session (one peer connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

/// Access to the sessions the relay drives, by id. Return `None` for a session that no
/// longer exists; the relay then skips it.
pub trait Sessions {
    /// The session named `id`.
    fn session(&mut self, id: SessionId) -> Option<&mut Session>;
}

impl<S: BuildHasher> Sessions for HashMap<SessionId, Session, S> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        self.get_mut(&id)
    }
}

impl Sessions for BTreeMap<SessionId, Session> {
    fn session(&mut self, id: SessionId) -> Option<&mut Session> {
        self.get_mut(&id)
    }
}
