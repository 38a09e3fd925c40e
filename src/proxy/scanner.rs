//! SIP scanners (sipvicious & co.): out-of-dialog requests from sources that are not
//! recognised by address and whose User-Agent names a known scanner get no challenge — 403 with
//! `unknown_source = "reject"`, silence with `"drop"` — and are counted.

use std::time::Instant;

use tracing::debug;

use super::local::LocalResponse;
use super::{Core, Event, Input, TxnKey};
use crate::config::{Snapshot, UnknownSource};
use crate::policy::identify;
use crate::sip::{HeaderName, Message};

/// User-Agent substrings of common scanners and attack tools (matched case-insensitively).
pub const SCANNER_AGENTS: [&str; 12] = [
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "vaxsipuseragent",
    "sundayddr",
    "iwar",
    "sip-scan",
    "sipbomber",
    "sipsak",
    "smap",
    "pplsip",
    "siparmyknife",
];

/// Whether a User-Agent value names a known scanner.
pub fn is_scanner_agent(ua: &[u8]) -> bool {
    SCANNER_AGENTS
        .iter()
        .any(|p| ua.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p.as_bytes())))
}

impl Core {
    /// Answers (or drops) a scanner's request; false when the request is not from one.
    pub(super) fn scanner(
        &mut self,
        now: Instant,
        snap: &Snapshot,
        input: &Input,
        msg: &Message,
        key: TxnKey,
    ) -> bool {
        let scanner = msg
            .headers_named(HeaderName::UserAgent)
            .any(|h| is_scanner_agent(msg.slice(h.value)));
        if !scanner || identify::identify(snap, input.src).is_some() {
            return false;
        }
        self.events.push_back(Event::Scanner);
        debug!(src = %input.src, "scanner User-Agent from an unknown source");
        if snap.proxy.unknown_source == UnknownSource::Reject {
            self.answer(now, key, msg, input, LocalResponse::new(403));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scanners_match_case_insensitively() {
        for ua in [
            "friendly-scanner",
            "sipvicious 0.3",
            "VaxSIPUserAgent/3.1",
            "sundayddr",
            "iWar",
            "SIPBomber 1.0",
            "sipcli/v1.8",
            "sip-scan",
        ] {
            assert!(is_scanner_agent(ua.as_bytes()), "{ua}");
        }
        for ua in ["Asterisk PBX 18.1", "FreeSWITCH", "Linphone/5.0", ""] {
            assert!(!is_scanner_agent(ua.as_bytes()), "{ua}");
        }
    }
}
