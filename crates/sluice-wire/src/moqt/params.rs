//! Message Parameters (draft-18 §10.2 and its subsections).
//!
//! ```text
//! Number of Parameters (vi64), Message Parameter { Type Delta (vi64), Value (..) } ...
//! ```
//! Unlike Key-Value-Pairs, the value's encoding is fixed by each parameter type (uint8 = one
//! raw byte, varint, Location, length-prefixed, or the Track Namespace encoding), so an
//! unknown type cannot be skipped: it is a PROTOCOL_VIOLATION, as is a parameter the
//! receiving message does not allow (§10.2.1), a type past 2^64-1, and a repeated type
//! other than AUTHORIZATION_TOKEN (the only one whose definition allows repetition). Types
//! are delta-coded, so they are ascending on the wire by construction.
//!
//! [`Parameters`] keeps the parameters in wire order, so re-encoding is exact. Which
//! parameters a message allows is [`ParamScope::allows`]; REQUEST_OK and REQUEST_UPDATE
//! are one wire type each for several requests, so the codec checks them against the union
//! of their uses and the session layer, which knows the request, can narrow the check with
//! [`Parameters::check`] and a specific [`RequestKind`].

use bytes::BufMut;

use crate::error::{DecodeError, EncodeError, Violation};
use crate::moqt::codes::{MessageType, ParameterType};
use crate::moqt::filter::SubscriptionFilter;
use crate::moqt::location::Location;
use crate::moqt::namespace::TrackNamespace;
use crate::moqt::reason::put_bounded;
use crate::moqt::token::Token;
use crate::reader::Reader;
use crate::varint::{self, VarintKind};
use crate::version::MoqtVersion;
use crate::{Decode, Encode};

/// The largest length-prefixed parameter value: a control message body is at most 65535.
pub const MAX_PARAM_VALUE_LEN: u64 = 65_535;

/// The most parameters [`Parameters::decode`] reserves room for before reading them.
const MAX_PRESIZED_PARAMS: u64 = 8;

/// Group order of a subscription or fetch (draft-18 §10.2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupOrder {
    /// 0x1: lower groups first.
    Ascending,
    /// 0x2: higher groups first.
    Descending,
}

impl GroupOrder {
    /// The code point.
    pub const fn code(self) -> u8 {
        match self {
            GroupOrder::Ascending => 0x1,
            GroupOrder::Descending => 0x2,
        }
    }

    /// The order for a code point, if valid.
    pub const fn from_code(code: u64) -> Option<Self> {
        match code {
            0x1 => Some(GroupOrder::Ascending),
            0x2 => Some(GroupOrder::Descending),
            _ => None,
        }
    }
}

/// One Message Parameter of draft-18, with its typed value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Parameter {
    /// 0x02 OBJECT_DELIVERY_TIMEOUT: varint milliseconds.
    ObjectDeliveryTimeout(u64),
    /// 0x03 AUTHORIZATION_TOKEN: length-prefixed Token; may repeat.
    AuthorizationToken(Token),
    /// 0x04 RENDEZVOUS_TIMEOUT: varint milliseconds.
    RendezvousTimeout(u64),
    /// 0x06 SUBGROUP_DELIVERY_TIMEOUT: varint milliseconds.
    SubgroupDeliveryTimeout(u64),
    /// 0x08 EXPIRES: varint milliseconds.
    Expires(u64),
    /// 0x09 LARGEST_OBJECT: Location.
    LargestObject(Location),
    /// 0x0A FILL_TIMEOUT: varint milliseconds.
    FillTimeout(u64),
    /// 0x10 FORWARD: uint8, 0 or 1.
    Forward(bool),
    /// 0x20 SUBSCRIBER_PRIORITY: uint8.
    SubscriberPriority(u8),
    /// 0x21 SUBSCRIPTION_FILTER: length-prefixed Subscription Filter.
    SubscriptionFilter(SubscriptionFilter),
    /// 0x22 GROUP_ORDER: uint8, 1 or 2.
    GroupOrder(GroupOrder),
    /// 0x32 NEW_GROUP_REQUEST: varint.
    NewGroupRequest(u64),
    /// 0x34 TRACK_NAMESPACE_PREFIX: the Track Namespace encoding (no extra length: the
    /// draft says the parameter "uses the Track Namespace encoding", which is self-delimiting).
    TrackNamespacePrefix(TrackNamespace),
}

impl Parameter {
    /// The parameter's type.
    pub fn kind(&self) -> ParameterType {
        match self {
            Parameter::ObjectDeliveryTimeout(_) => ParameterType::OBJECT_DELIVERY_TIMEOUT,
            Parameter::AuthorizationToken(_) => ParameterType::AUTHORIZATION_TOKEN,
            Parameter::RendezvousTimeout(_) => ParameterType::RENDEZVOUS_TIMEOUT,
            Parameter::SubgroupDeliveryTimeout(_) => ParameterType::SUBGROUP_DELIVERY_TIMEOUT,
            Parameter::Expires(_) => ParameterType::EXPIRES,
            Parameter::LargestObject(_) => ParameterType::LARGEST_OBJECT,
            Parameter::FillTimeout(_) => ParameterType::FILL_TIMEOUT,
            Parameter::Forward(_) => ParameterType::FORWARD,
            Parameter::SubscriberPriority(_) => ParameterType::SUBSCRIBER_PRIORITY,
            Parameter::SubscriptionFilter(_) => ParameterType::SUBSCRIPTION_FILTER,
            Parameter::GroupOrder(_) => ParameterType::GROUP_ORDER,
            Parameter::NewGroupRequest(_) => ParameterType::NEW_GROUP_REQUEST,
            Parameter::TrackNamespacePrefix(_) => ParameterType::TRACK_NAMESPACE_PREFIX,
        }
    }

    /// True for types whose definition allows several instances in one message
    /// (draft-18: only AUTHORIZATION_TOKEN, §10.2.2).
    pub fn repeatable(kind: ParameterType) -> bool {
        kind == ParameterType::AUTHORIZATION_TOKEN
    }

    #[inline]
    fn decode_value(
        kind: ParameterType,
        r: &mut Reader<'_>,
        version: MoqtVersion,
    ) -> Result<Self, DecodeError> {
        Ok(match kind {
            ParameterType::OBJECT_DELIVERY_TIMEOUT => Parameter::ObjectDeliveryTimeout(r.vi64()?),
            ParameterType::AUTHORIZATION_TOKEN => {
                let raw = r.len_prefixed(VarintKind::Vi64, "authorization token", MAX_PARAM_VALUE_LEN)?;
                Parameter::AuthorizationToken(Token::from_bytes(&raw)?)
            }
            ParameterType::RENDEZVOUS_TIMEOUT => Parameter::RendezvousTimeout(r.vi64()?),
            ParameterType::SUBGROUP_DELIVERY_TIMEOUT => Parameter::SubgroupDeliveryTimeout(r.vi64()?),
            ParameterType::EXPIRES => Parameter::Expires(r.vi64()?),
            ParameterType::LARGEST_OBJECT => Parameter::LargestObject(Location::decode(r, version)?),
            ParameterType::FILL_TIMEOUT => Parameter::FillTimeout(r.vi64()?),
            ParameterType::FORWARD => match r.u8()? {
                0 => Parameter::Forward(false),
                1 => Parameter::Forward(true),
                v => return Err(Violation::InvalidValue { field: "FORWARD", value: v.into() }.into()),
            },
            ParameterType::SUBSCRIBER_PRIORITY => Parameter::SubscriberPriority(r.u8()?),
            ParameterType::SUBSCRIPTION_FILTER => {
                let claimed = r.vi64()?;
                let n = r.check_len("subscription filter", claimed, MAX_PARAM_VALUE_LEN)?;
                let mut inner = r.body(n)?;
                let filter = SubscriptionFilter::decode(&mut inner, version)?;
                inner.finish()?;
                Parameter::SubscriptionFilter(filter)
            }
            ParameterType::GROUP_ORDER => {
                let v = r.u8()?;
                let order = GroupOrder::from_code(v.into())
                    .ok_or(Violation::InvalidValue { field: "GROUP_ORDER", value: v.into() })?;
                Parameter::GroupOrder(order)
            }
            ParameterType::NEW_GROUP_REQUEST => Parameter::NewGroupRequest(r.vi64()?),
            ParameterType::TRACK_NAMESPACE_PREFIX => {
                Parameter::TrackNamespacePrefix(TrackNamespace::decode(r, version)?)
            }
            other => return Err(Violation::UnknownParameter(other.0).into()),
        })
    }

    fn encode_value<B: BufMut>(&self, buf: &mut B, version: MoqtVersion) -> Result<(), EncodeError> {
        match self {
            Parameter::ObjectDeliveryTimeout(v)
            | Parameter::RendezvousTimeout(v)
            | Parameter::SubgroupDeliveryTimeout(v)
            | Parameter::Expires(v)
            | Parameter::FillTimeout(v)
            | Parameter::NewGroupRequest(v) => varint::put_vi64(buf, *v),
            Parameter::AuthorizationToken(token) => {
                put_bounded(buf, "authorization token", &token.to_bytes()?, MAX_PARAM_VALUE_LEN)?
            }
            Parameter::LargestObject(loc) => loc.encode(buf, version)?,
            Parameter::Forward(f) => buf.put_u8(u8::from(*f)),
            Parameter::SubscriberPriority(p) => buf.put_u8(*p),
            Parameter::SubscriptionFilter(filter) => {
                // At most 28 bytes, so the length is never near MAX_PARAM_VALUE_LEN.
                varint::put_vi64(buf, filter.encoded_len() as u64);
                filter.encode(buf, version)?;
            }
            Parameter::GroupOrder(order) => buf.put_u8(order.code()),
            Parameter::TrackNamespacePrefix(ns) => ns.encode(buf, version)?,
        }
        Ok(())
    }
}

/// The request a REQUEST_OK answers or a REQUEST_UPDATE modifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// SUBSCRIBE.
    Subscribe,
    /// PUBLISH (REQUEST_OK = PUBLISH_OK; REQUEST_UPDATE by the subscriber).
    Publish,
    /// FETCH.
    Fetch,
    /// TRACK_STATUS (REQUEST_OK = TRACK_STATUS_OK).
    TrackStatus,
    /// PUBLISH_NAMESPACE.
    PublishNamespace,
    /// SUBSCRIBE_NAMESPACE.
    SubscribeNamespace,
    /// SUBSCRIBE_TRACKS.
    SubscribeTracks,
    /// REQUEST_UPDATE (REQUEST_OK = REQUEST_UPDATE_OK).
    RequestUpdate,
}

/// Where a parameter block appears, for the allowed-parameter tables of draft-18 §10.2.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamScope {
    /// SUBSCRIBE.
    Subscribe,
    /// SUBSCRIBE_OK.
    SubscribeOk,
    /// PUBLISH.
    Publish,
    /// FETCH.
    Fetch,
    /// FETCH_OK (no draft-18 parameter names FETCH_OK, so none is allowed).
    FetchOk,
    /// TRACK_STATUS.
    TrackStatus,
    /// PUBLISH_NAMESPACE.
    PublishNamespace,
    /// SUBSCRIBE_NAMESPACE.
    SubscribeNamespace,
    /// SUBSCRIBE_TRACKS.
    SubscribeTracks,
    /// REQUEST_OK answering the given request (`None`: not known, allow any use).
    RequestOk(Option<RequestKind>),
    /// REQUEST_UPDATE modifying the given request (`None`: not known, allow any use).
    RequestUpdate(Option<RequestKind>),
}

impl ParamScope {
    /// The control message type the block belongs to.
    pub fn message_type(self) -> MessageType {
        match self {
            ParamScope::Subscribe => MessageType::SUBSCRIBE,
            ParamScope::SubscribeOk => MessageType::SUBSCRIBE_OK,
            ParamScope::Publish => MessageType::PUBLISH,
            ParamScope::Fetch => MessageType::FETCH,
            ParamScope::FetchOk => MessageType::FETCH_OK,
            ParamScope::TrackStatus => MessageType::TRACK_STATUS,
            ParamScope::PublishNamespace => MessageType::PUBLISH_NAMESPACE,
            ParamScope::SubscribeNamespace => MessageType::SUBSCRIBE_NAMESPACE,
            ParamScope::SubscribeTracks => MessageType::SUBSCRIBE_TRACKS,
            ParamScope::RequestOk(_) => MessageType::REQUEST_OK,
            ParamScope::RequestUpdate(_) => MessageType::REQUEST_UPDATE,
        }
    }

    /// Whether a parameter of type `kind` may appear here (draft-18 §10.2.2 to §10.2.13).
    #[inline]
    pub fn allows(self, kind: ParameterType) -> bool {
        mask_has(self.allowed_mask(), kind)
    }

    /// The allowed table of this scope as a bit set over the parameter types (bit `t` set:
    /// type `t` is allowed). Every allowed type is below 64; [`ParamScope::table_allows`]
    /// is the table itself, evaluated into these constants at compile time, so a block is
    /// checked with one load and one bit test per parameter instead of a walk of the table.
    #[inline]
    pub fn allowed_mask(self) -> u64 {
        use ParamScope as S;
        use RequestKind as K;
        macro_rules! mask {
            ($scope:expr) => {
                const { ParamScope::mask_of($scope) }
            };
        }
        macro_rules! per_request {
            ($variant:ident, $kind:expr) => {
                match $kind {
                    None => mask!(S::$variant(None)),
                    Some(K::Subscribe) => mask!(S::$variant(Some(K::Subscribe))),
                    Some(K::Publish) => mask!(S::$variant(Some(K::Publish))),
                    Some(K::Fetch) => mask!(S::$variant(Some(K::Fetch))),
                    Some(K::TrackStatus) => mask!(S::$variant(Some(K::TrackStatus))),
                    Some(K::PublishNamespace) => mask!(S::$variant(Some(K::PublishNamespace))),
                    Some(K::SubscribeNamespace) => mask!(S::$variant(Some(K::SubscribeNamespace))),
                    Some(K::SubscribeTracks) => mask!(S::$variant(Some(K::SubscribeTracks))),
                    Some(K::RequestUpdate) => mask!(S::$variant(Some(K::RequestUpdate))),
                }
            };
        }
        match self {
            S::Subscribe => mask!(S::Subscribe),
            S::SubscribeOk => mask!(S::SubscribeOk),
            S::Publish => mask!(S::Publish),
            S::Fetch => mask!(S::Fetch),
            S::FetchOk => mask!(S::FetchOk),
            S::TrackStatus => mask!(S::TrackStatus),
            S::PublishNamespace => mask!(S::PublishNamespace),
            S::SubscribeNamespace => mask!(S::SubscribeNamespace),
            S::SubscribeTracks => mask!(S::SubscribeTracks),
            S::RequestOk(kind) => per_request!(RequestOk, kind),
            S::RequestUpdate(kind) => per_request!(RequestUpdate, kind),
        }
    }

    /// [`ParamScope::table_allows`] over types 0..64 as a bit set (compile time only).
    const fn mask_of(self) -> u64 {
        let mut mask = 0u64;
        let mut t = 0u64;
        while t < 64 {
            if self.table_allows(ParameterType(t)) {
                mask |= 1u64 << t;
            }
            t = t.saturating_add(1);
        }
        mask
    }

    /// The allowed-parameter table (draft-18 §10.2.2 to §10.2.13; the draft-19 differences
    /// are noted inline). [`ParamScope::allows`] answers from its compiled bit sets.
    pub const fn table_allows(self, kind: ParameterType) -> bool {
        use ParamScope as S;
        use RequestKind as K;
        let any_update = matches!(self, S::RequestUpdate(_));
        let subscription_update = matches!(self, S::RequestUpdate(None | Some(K::Subscribe | K::Publish)));
        let publish_ok = matches!(self, S::RequestOk(None | Some(K::Publish)));
        let update_ok = matches!(self, S::RequestOk(None | Some(K::RequestUpdate)));
        let track_status_ok = matches!(self, S::RequestOk(None | Some(K::TrackStatus)));
        match kind {
            ParameterType::OBJECT_DELIVERY_TIMEOUT | ParameterType::SUBGROUP_DELIVERY_TIMEOUT => {
                matches!(self, S::Subscribe) || publish_ok || any_update
            }
            ParameterType::AUTHORIZATION_TOKEN => {
                any_update
                    || matches!(
                        self,
                        S::Publish
                            | S::Subscribe
                            | S::SubscribeNamespace
                            | S::SubscribeTracks
                            | S::PublishNamespace
                            | S::TrackStatus
                            | S::Fetch
                    )
            }
            ParameterType::RENDEZVOUS_TIMEOUT => matches!(self, S::Subscribe),
            // draft-19 also allows EXPIRES in the other *_OK aliases; draft-18 does not.
            ParameterType::EXPIRES => matches!(self, S::SubscribeOk | S::Publish) || publish_ok || update_ok,
            ParameterType::LARGEST_OBJECT => {
                matches!(self, S::SubscribeOk | S::Publish) || update_ok || track_status_ok
            }
            ParameterType::FILL_TIMEOUT => matches!(self, S::Fetch),
            ParameterType::FORWARD => {
                matches!(self, S::Subscribe | S::Publish | S::SubscribeTracks)
                    || subscription_update
                    || publish_ok
            }
            ParameterType::SUBSCRIBER_PRIORITY => {
                matches!(
                    self,
                    S::Subscribe
                        | S::Fetch
                        | S::RequestUpdate(None | Some(K::Subscribe | K::Publish | K::Fetch))
                ) || publish_ok
            }
            ParameterType::SUBSCRIPTION_FILTER | ParameterType::NEW_GROUP_REQUEST => {
                matches!(self, S::Subscribe) || publish_ok || subscription_update
            }
            // draft-19 allows GROUP_ORDER in SUBSCRIBE_TRACKS instead of PUBLISH_OK.
            ParameterType::GROUP_ORDER => matches!(self, S::Subscribe | S::Fetch) || publish_ok,
            ParameterType::TRACK_NAMESPACE_PREFIX => {
                matches!(self, S::RequestUpdate(None | Some(K::SubscribeNamespace | K::SubscribeTracks)))
            }
            _ => false,
        }
    }
}

/// True when bit `kind` of an allowed-type mask is set (types from 64 up are never allowed).
#[inline]
fn mask_has(mask: u64, kind: ParameterType) -> bool {
    kind.0 < 64 && (mask >> kind.0) & 1 == 1
}

/// A Message Parameter block, in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Parameters(pub Vec<Parameter>);

impl Parameters {
    /// No parameters.
    pub const fn new() -> Self {
        Parameters(Vec::new())
    }

    /// The parameters in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Parameter> {
        self.0.iter()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first parameter of type `kind`.
    pub fn get(&self, kind: ParameterType) -> Option<&Parameter> {
        self.0.iter().find(|p| p.kind() == kind)
    }

    /// Every AUTHORIZATION_TOKEN, in order.
    pub fn auth_tokens(&self) -> impl Iterator<Item = &Token> {
        self.0.iter().filter_map(|p| match p {
            Parameter::AuthorizationToken(t) => Some(t),
            _ => None,
        })
    }

    /// Checks order, repetition and the allowed table for `scope`.
    pub fn check(&self, scope: ParamScope) -> Result<(), Violation> {
        let allowed = scope.allowed_mask();
        let mut prev: Option<ParameterType> = None;
        for p in &self.0 {
            let kind = p.kind();
            if !mask_has(allowed, kind) {
                return Err(Violation::ParameterNotAllowed { kind: kind.0, message: scope.message_type().0 });
            }
            match prev {
                Some(prev) if kind < prev => return Err(Violation::ParametersOutOfOrder),
                Some(prev) if kind == prev && !Parameter::repeatable(kind) => {
                    return Err(Violation::DuplicateParameter(kind.0));
                }
                _ => {}
            }
            prev = Some(kind);
        }
        Ok(())
    }

    /// Reads a count-prefixed block that appears in `scope`.
    pub fn decode(r: &mut Reader<'_>, scope: ParamScope, version: MoqtVersion) -> Result<Self, DecodeError> {
        let count = r.vi64()?;
        // Every parameter takes at least two bytes (type delta and a value of one byte or
        // more), so the bytes present bound the count; the cap keeps a large claim from
        // reserving much before it is read (growth past it is by pushing).
        let presized = count.min((r.remaining() / 2) as u64).min(MAX_PRESIZED_PARAMS);
        let mut out = Vec::with_capacity(usize::try_from(presized).unwrap_or(0));
        let allowed = scope.allowed_mask();
        let mut prev: Option<ParameterType> = None;
        for _ in 0..count {
            let delta = r.vi64()?;
            let kind = ParameterType(
                prev.map_or(0, |p| p.0).checked_add(delta).ok_or(Violation::TypeDeltaOverflow)?,
            );
            if !mask_has(allowed, kind) {
                // Allowed types are all known, so this order keeps the unknown-type error
                // ahead of the not-allowed one.
                if !kind.is_known() {
                    return Err(Violation::UnknownParameter(kind.0).into());
                }
                return Err(
                    Violation::ParameterNotAllowed { kind: kind.0, message: scope.message_type().0 }.into()
                );
            }
            if prev == Some(kind) && !Parameter::repeatable(kind) {
                return Err(Violation::DuplicateParameter(kind.0).into());
            }
            out.push(Parameter::decode_value(kind, r, version)?);
            prev = Some(kind);
        }
        Ok(Parameters(out))
    }

    /// Writes the block for `scope`, refusing what [`Parameters::decode`] would reject.
    pub fn encode<B: BufMut>(
        &self,
        buf: &mut B,
        scope: ParamScope,
        version: MoqtVersion,
    ) -> Result<(), EncodeError> {
        self.check(scope)?;
        varint::put_vi64(buf, self.0.len() as u64);
        let mut prev = 0u64;
        for p in &self.0 {
            let kind = p.kind().0;
            varint::put_vi64(buf, kind.saturating_sub(prev));
            p.encode_value(buf, version)?;
            prev = kind;
        }
        Ok(())
    }
}

impl From<Vec<Parameter>> for Parameters {
    fn from(v: Vec<Parameter>) -> Self {
        Parameters(v)
    }
}

#[cfg(test)]
mod allowed_mask_tests {
    use super::*;

    fn every_scope() -> Vec<ParamScope> {
        use ParamScope as S;
        use RequestKind as K;
        let kinds = [
            None,
            Some(K::Subscribe),
            Some(K::Publish),
            Some(K::Fetch),
            Some(K::TrackStatus),
            Some(K::PublishNamespace),
            Some(K::SubscribeNamespace),
            Some(K::SubscribeTracks),
            Some(K::RequestUpdate),
        ];
        let mut out = vec![
            S::Subscribe,
            S::SubscribeOk,
            S::Publish,
            S::Fetch,
            S::FetchOk,
            S::TrackStatus,
            S::PublishNamespace,
            S::SubscribeNamespace,
            S::SubscribeTracks,
        ];
        out.extend(kinds.iter().map(|k| S::RequestOk(*k)));
        out.extend(kinds.iter().map(|k| S::RequestUpdate(*k)));
        out
    }

    /// The compiled bit sets answer exactly as the table, for every scope and every type
    /// (known or not, below and above 64), and each scope's set is its own.
    #[test]
    fn allows_matches_the_table_for_every_scope_and_type() {
        let types = (0..200).chain([u64::MAX, 1 << 40]).map(ParameterType);
        let types: Vec<ParameterType> = types.collect();
        for scope in every_scope() {
            for &kind in &types {
                assert_eq!(scope.allows(kind), scope.table_allows(kind), "{scope:?} {kind:?}");
            }
        }
        // The table itself: SUBSCRIBE takes FORWARD, SUBSCRIBE_OK does not; REQUEST_OK
        // narrowed to SUBSCRIBE takes nothing.
        assert!(ParamScope::Subscribe.allows(ParameterType::FORWARD));
        assert!(!ParamScope::SubscribeOk.allows(ParameterType::FORWARD));
        assert_eq!(ParamScope::RequestOk(Some(RequestKind::Subscribe)).allowed_mask(), 0);
        assert_ne!(ParamScope::Subscribe.allowed_mask(), ParamScope::Fetch.allowed_mask());
    }

    /// Every type the table allows anywhere is below 64, so the bit sets cover the table.
    #[test]
    fn every_allowed_type_fits_the_bit_set() {
        for scope in every_scope() {
            for kind in ParameterType::KNOWN {
                if scope.table_allows(*kind) {
                    assert!(kind.0 < 64, "{kind:?} allowed in {scope:?} is past the bit set");
                }
            }
        }
    }
}
