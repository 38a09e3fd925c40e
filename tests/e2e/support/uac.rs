//! The caller's side of one call: the INVITE, CANCEL, ACKs and BYE it sends, with the route
//! set and remote target learned from the 2xx (RFC 3261 §12.1.2).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use trunkgate::sip::Message;

use super::msg::{sdp, MsgExt};
use super::ua::Peer;

static SEQ: AtomicU64 = AtomicU64::new(1);

fn unique() -> u64 {
    SEQ.fetch_add(1, Ordering::SeqCst)
}

/// The host of `addr` as written in a URI (IPv6 bracketed).
pub fn uri_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

/// One outgoing call.
pub struct UacCall {
    pub call_id: String,
    /// Request-URI of the INVITE.
    pub ruri: String,
    from: String,
    /// To value (with the remote tag once a response fixed it).
    pub to: String,
    local: SocketAddr,
    transport: &'static str,
    /// Branch of the current INVITE (CANCEL and non-2xx ACK reuse it).
    pub invite_branch: String,
    /// CSeq of the current INVITE.
    pub cseq: u32,
    /// Route set (Record-Route of the 2xx, reversed).
    pub route: Vec<String>,
    /// Remote target (Contact of the 2xx).
    pub target: Option<String>,
    /// Proxy-Authorization value for the next INVITE.
    pub auth: Option<String>,
    /// Extra header lines for the INVITE.
    pub extra: String,
}

impl UacCall {
    /// A call from `from_user` at the peer's address to `ruri`.
    pub fn new(peer: &impl Peer, from_user: &str, ruri: &str) -> UacCall {
        let local = peer.local();
        let id = unique();
        UacCall {
            call_id: format!("e2e-{id}-{}@{}", std::process::id(), local.ip()),
            ruri: ruri.to_string(),
            from: format!("<sip:{from_user}@{}>;tag=uac{id}", uri_host(local)),
            to: format!("<{ruri}>"),
            local,
            transport: peer.transport(),
            invite_branch: format!("z9hG4bK-uac{id}"),
            cseq: 1,
            route: Vec::new(),
            target: None,
            auth: None,
            extra: String::new(),
        }
    }

    fn via(&self, branch: &str) -> String {
        format!("SIP/2.0/{} {};branch={branch};rport", self.transport, self.local)
    }

    fn contact(&self) -> String {
        let tp = if self.transport == "TCP" {
            ";transport=tcp"
        } else {
            ""
        };
        format!("<sip:caller@{}{tp}>", self.local)
    }

    fn request(&self, method: &str, ruri: &str, branch: &str, cseq: u32, routed: bool) -> String {
        let mut s = format!(
            "{method} {ruri} SIP/2.0\nVia: {}\nMax-Forwards: 70\nFrom: {}\nTo: {}\nCall-ID: {}\nCSeq: {cseq} {method}\n",
            self.via(branch),
            self.from,
            self.to,
            self.call_id
        );
        if routed {
            for r in &self.route {
                let _ = writeln!(s, "Route: {r}");
            }
        }
        s
    }

    /// The INVITE (with SDP, Contact, credentials and extra headers when set).
    pub fn invite(&self) -> String {
        let mut s = self.request("INVITE", &self.ruri, &self.invite_branch, self.cseq, false);
        let _ = writeln!(s, "Contact: {}", self.contact());
        if let Some(a) = &self.auth {
            let _ = writeln!(s, "Proxy-Authorization: {a}");
        }
        s.push_str(&self.extra);
        let _ = write!(
            s,
            "Content-Type: application/sdp\n\n{}",
            sdp(&self.local.ip().to_string())
        );
        s
    }

    /// A new INVITE transaction (after a challenge): next CSeq, new branch.
    pub fn next_invite(&mut self) -> String {
        self.cseq += 1;
        self.invite_branch = format!("z9hG4bK-uac{}", unique());
        self.invite()
    }

    /// Any request on its own transaction (new branch, next CSeq), Route set included;
    /// `extra` header lines (each ending in `\n`) and an optional body follow.
    pub fn other(&mut self, method: &str, ruri: &str, extra: &str, body: &str) -> String {
        self.cseq += 1;
        let b = format!("z9hG4bK-uac{}", unique());
        format!(
            "{}{extra}\n{body}",
            self.request(method, ruri, &b, self.cseq, true)
        )
    }

    /// CANCEL for the current INVITE (same branch, RFC 3261 §9.1).
    pub fn cancel(&self) -> String {
        self.request("CANCEL", &self.ruri, &self.invite_branch, self.cseq, false) + "\n"
    }

    /// ACK for a non-2xx final response (same branch, its To, RFC 3261 §17.1.1.3).
    pub fn ack_non2xx(&self, resp: &Message) -> String {
        let to = resp.h("To").expect("To in response");
        let mut s = format!(
            "ACK {} SIP/2.0\nVia: {}\nMax-Forwards: 70\nFrom: {}\nTo: {to}\nCall-ID: {}\nCSeq: {} ACK\n",
            self.ruri,
            self.via(&self.invite_branch),
            self.from,
            self.call_id,
            self.cseq
        );
        s.push('\n');
        s
    }

    /// Learns the dialog from a 2xx: remote tag, route set, remote target.
    pub fn established(&mut self, resp: &Message) {
        self.to = resp.h("To").expect("To in 2xx");
        self.route = resp.hs("Record-Route").into_iter().rev().collect();
        self.target = Some(resp.contact_uri().expect("Contact in 2xx"));
    }

    fn target(&self) -> String {
        self.target.clone().expect("call not established")
    }

    /// The ACK for the 2xx (new branch, Route set, to the remote target).
    pub fn ack(&self) -> String {
        let b = format!("z9hG4bK-uac{}", unique());
        self.request("ACK", &self.target(), &b, self.cseq, true) + "\n"
    }

    /// An in-dialog BYE (next CSeq, new branch, Route set).
    pub fn bye(&mut self) -> String {
        self.cseq += 1;
        let b = format!("z9hG4bK-uac{}", unique());
        self.request("BYE", &self.target(), &b, self.cseq, true) + "\n"
    }
}
