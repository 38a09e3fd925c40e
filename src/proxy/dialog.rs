//! Dialog tracking and our signed Record-Route.
//!
//! Every initial request we relay gets `Record-Route: <sip:ADVERTISE:PORT;lr;tg=SIG>` where
//! SIG = SipHash-2-4 keyed with 128 bits of the process secret over Call-ID ‖ 0 ‖ From-tag, as
//! 16 hex digits. SipHash is a keyed PRF built for short inputs: a 64-bit tag is as hard to
//! forge as it is long, at a fraction of an HMAC-SHA256's cost on every in-dialog request.
//! In-dialog requests come back with that URI as their top Route; we relay them only if the
//! signature checks out for the request's From tag or To tag (either direction of the dialog).
//! That check needs no state, so it survives a restart as long as the secret does.
//!
//! When a carrier's `outbound_parameters` (or the caller ID) rewrote the INVITE's From or To,
//! each side must keep seeing the values it knows (Kamailio uac "restore" mode). Responses are
//! restored from the request they answer (`forward::restore_ids`, no state). In-dialog
//! requests are translated with the dialog's `Rewrite`, kept here with the dialog (keyed by
//! Call-ID, released with it) rather than encoded in a Record-Route parameter as Kamailio does:
//! the PBX's own From/To then never travel to the carrier, and nothing the far end can edit
//! decides what the PBX is shown. The cost: after a restart the translation is gone, and
//! in-dialog requests are still relayed (signed Route) with From/To as their sender wrote them,
//! which RFC 3261 §12 allows (dialogs are identified by Call-ID and tags).

use std::collections::HashMap;
use std::hash::Hasher;
use std::time::Instant;

use bytes::Bytes;

use super::forward::{without_tag, DialogIds};
use crate::policy::limits::Permit;
use crate::sip::header::tag_of;
use crate::sip::{HeaderName, Message};

/// Signs and verifies Record-Route parameters.
pub struct RouteSigner {
    k0: u64,
    k1: u64,
}

impl RouteSigner {
    pub fn new(secret: [u8; 32]) -> RouteSigner {
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&secret[i..i + 8]);
            u64::from_le_bytes(b)
        };
        // Bytes 16..32 of the secret: the nonce HMAC keys with the whole secret, but a
        // distinct key here keeps the two uses apart.
        RouteSigner {
            k0: word(16),
            k1: word(24),
        }
    }

    fn tag(&self, call_id: &[u8], from_tag: &[u8]) -> u64 {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(self.k0, self.k1);
        h.write(call_id);
        h.write_u8(0);
        h.write(from_tag);
        h.finish()
    }

    /// The 16-hex-digit signature for a dialog.
    pub fn sign(&self, call_id: &[u8], from_tag: &[u8]) -> String {
        let mut out = String::with_capacity(16);
        super::forward::push_hex(&mut out, self.tag(call_id, from_tag));
        out
    }

    /// True when `sig` is valid for the dialog in either direction.
    pub fn verify(&self, sig: &[u8], call_id: &[u8], from_tag: &[u8], to_tag: Option<&[u8]>) -> bool {
        use subtle::ConstantTimeEq;
        let Some(sig) = parse_hex(sig) else { return false };
        let ok = |tag: &[u8]| bool::from(self.tag(call_id, tag).ct_eq(&sig));
        ok(from_tag) || to_tag.is_some_and(ok)
    }
}

/// 16 hex digits (either case) as a u64.
fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.len() != 16 {
        return None;
    }
    s.iter()
        .try_fold(0u64, |n, c| Some(n << 4 | u64::from((*c as char).to_digit(16)?)))
}

/// An established (answered) call: it holds the call's permits until it ends.
pub struct Dialog {
    /// Held only for their `Drop`, which releases the counts when the dialog ends.
    #[allow(dead_code)]
    pub permits: Vec<Permit>,
    /// When `max_call_duration` ends it.
    pub expires: Instant,
    /// From/To translation when the INVITE's were rewritten.
    pub rewrite: Option<Box<Rewrite>>,
}

/// The From and To of a dialog's INVITE as the caller sent them (`a_*`) and as we forwarded
/// them (`b_*`), tags excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The caller's From tag: a request carrying it as its From tag goes caller → callee.
    caller_tag: Bytes,
    a_from: Bytes,
    a_to: Bytes,
    b_from: Bytes,
    b_to: Bytes,
}

impl Rewrite {
    /// Compares the INVITE as received with the INVITE as sent; `None` when From and To went
    /// out unchanged.
    pub fn between(received: &Message, sent: &Message) -> Option<Rewrite> {
        fn from(m: &Message) -> &[u8] {
            m.header(HeaderName::From).unwrap_or(b"")
        }
        fn to(m: &Message) -> &[u8] {
            m.header(HeaderName::To).unwrap_or(b"")
        }
        if from(received) == from(sent) && to(received) == to(sent) {
            return None;
        }
        Some(Rewrite {
            caller_tag: Bytes::copy_from_slice(tag_of(from(received)).unwrap_or(b"")),
            a_from: without_tag(from(received)),
            a_to: without_tag(to(received)),
            b_from: without_tag(from(sent)),
            b_to: without_tag(to(sent)),
        })
    }

    /// The From/To an in-dialog request carries on: caller → callee gets the values the callee
    /// was sent; callee → caller gets the caller's own (its From is the caller's To).
    pub fn for_request(&self, req: &Message) -> DialogIds<'_> {
        let from_tag = req.header(HeaderName::From).and_then(tag_of).unwrap_or(b"");
        if from_tag == self.caller_tag.as_ref() {
            DialogIds {
                from: &self.b_from,
                to: &self.b_to,
            }
        } else {
            DialogIds {
                from: &self.a_to,
                to: &self.a_from,
            }
        }
    }
}

/// Dialogs of this shard by Call-ID (copied out of the packet so no buffer is kept alive).
#[derive(Default)]
pub struct Dialogs {
    map: HashMap<Bytes, Dialog>,
}

impl Dialogs {
    pub fn insert(&mut self, call_id: &[u8], dialog: Dialog) {
        self.map.insert(Bytes::copy_from_slice(call_id), dialog);
    }

    pub fn contains(&self, call_id: &[u8]) -> bool {
        self.map.contains_key(call_id)
    }

    /// The From/To translation of a dialog, when its INVITE's were rewritten.
    pub fn rewrite(&self, call_id: &[u8]) -> Option<&Rewrite> {
        self.map.get(call_id).and_then(|d| d.rewrite.as_deref())
    }

    /// Ends a dialog, releasing its permits.
    pub fn remove(&mut self, call_id: &[u8]) -> bool {
        self.map.remove(call_id).is_some()
    }

    /// Ends every dialog past its `max_call_duration`; returns their Call-IDs.
    pub fn expire(&mut self, now: Instant) -> Vec<Bytes> {
        let gone: Vec<Bytes> = self
            .map
            .iter()
            .filter(|(_, d)| d.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            self.map.remove(k);
        }
        gone
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_either_direction() {
        let s = RouteSigner::new([7; 32]);
        let sig = s.sign(b"call-1", b"tagA");
        assert_eq!(sig.len(), 16);
        assert!(s.verify(sig.as_bytes(), b"call-1", b"tagA", None));
        assert!(s.verify(sig.as_bytes(), b"call-1", b"tagB", Some(b"tagA")));
        assert!(!s.verify(sig.as_bytes(), b"call-2", b"tagA", None));
        assert!(!s.verify(b"0000000000000000", b"call-1", b"tagA", None));
    }

    fn msg(from: &str, to: &str) -> Message {
        let text = format!(
            "BYE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3;branch=z9hG4bK1\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: c\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(Bytes::from(text)).expect("parses")
    }

    #[test]
    fn rewrite_translates_each_direction() {
        let received = msg("\"Alice\" <sip:201@pbx>;tag=a1", "<sip:+1212@edge>");
        let sent = msg("<sip:4155@carrier>;tag=a1", "<sip:1212@carrier>");
        assert_eq!(Rewrite::between(&received, &received), None);
        let r = Rewrite::between(&received, &sent).expect("rewritten");
        let down = r.for_request(&msg("\"Alice\" <sip:201@pbx>;tag=a1", "<sip:+1212@edge>;tag=b2"));
        assert_eq!(
            (down.from, down.to),
            (&b"<sip:4155@carrier>"[..], &b"<sip:1212@carrier>"[..])
        );
        let up = r.for_request(&msg("<sip:1212@carrier>;tag=b2", "<sip:4155@carrier>;tag=a1"));
        assert_eq!(
            (up.from, up.to),
            (&b"<sip:+1212@edge>"[..], &b"\"Alice\" <sip:201@pbx>"[..])
        );
    }
}
