//! Dialog tracking and our signed Record-Route.
//!
//! Every initial request we relay gets `Record-Route: <sip:ADVERTISE:PORT;lr;tg=SIG>` where
//! SIG = HMAC-SHA256(secret, Call-ID ‖ 0 ‖ From-tag) truncated to 8 bytes. In-dialog requests
//! come back with that URI as their top Route; we relay them only if the signature checks out
//! for the request's From tag or To tag (either direction of the dialog). That check needs no
//! state, so it survives a restart as long as the secret does.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::policy::limits::Permit;

/// Signs and verifies Record-Route parameters.
pub struct RouteSigner {
    secret: [u8; 32],
}

impl RouteSigner {
    pub fn new(secret: [u8; 32]) -> RouteSigner {
        RouteSigner { secret }
    }

    /// The 16-hex-digit signature for a dialog.
    pub fn sign(&self, call_id: &[u8], from_tag: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key size");
        mac.update(call_id);
        mac.update(&[0]);
        mac.update(from_tag);
        let out = mac.finalize().into_bytes();
        out[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// True when `sig` is valid for the dialog in either direction.
    pub fn verify(&self, sig: &[u8], call_id: &[u8], from_tag: &[u8], to_tag: Option<&[u8]>) -> bool {
        use subtle::ConstantTimeEq;
        let ok = |tag: &[u8]| bool::from(self.sign(call_id, tag).as_bytes().ct_eq(sig));
        ok(from_tag) || to_tag.is_some_and(ok)
    }
}

/// An established (answered) call: it holds the call's permits until it ends.
pub struct Dialog {
    /// Held only for their `Drop`, which releases the counts when the dialog ends.
    #[allow(dead_code)]
    pub permits: Vec<Permit>,
    /// When `max_call_duration` ends it.
    pub expires: Instant,
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
}
