//! A registering UA's side of REGISTER (RFC 3261 §10): one registration (Call-ID, From tag,
//! CSeq), requests with or without credentials, and the 401 → credentials round.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use trunkgate::policy::digest;
use trunkgate::sip::Message;

use super::msg::MsgExt;
use super::ua::Peer;

static SEQ: AtomicU64 = AtomicU64::new(1);

/// One registration of `user` (To / From `sip:user@domain`) sent to `ruri`.
pub struct Registration {
    pub call_id: String,
    pub ruri: String,
    pub user: String,
    pub domain: String,
    pub cseq: u32,
    tag: String,
    /// Credentials (Authorization value) for the next request.
    pub auth: Option<String>,
    /// The credentials' cnonce counter (nc), raised for every answered request.
    pub nc: u32,
}

impl Registration {
    /// A registration of `user@domain` through the Request-URI `ruri`.
    pub fn new(user: &str, domain: &str, ruri: &str) -> Registration {
        let id = SEQ.fetch_add(1, Ordering::SeqCst);
        Registration {
            call_id: format!("reg-{id}-{}", std::process::id()),
            ruri: ruri.to_string(),
            user: user.to_string(),
            domain: domain.to_string(),
            cseq: 0,
            tag: format!("reg{id}"),
            auth: None,
            nc: 0,
        }
    }

    /// The next REGISTER: `contacts` are whole Contact values (`<sip:..>;expires=N` or `*`),
    /// `expires` an Expires header; credentials included when set.
    pub fn request(&mut self, peer: &impl Peer, contacts: &[&str], expires: Option<u32>) -> String {
        self.request_to_user(peer, &self.user.clone(), contacts, expires)
    }

    /// As `request`, with another To user than the registering one.
    pub fn request_to_user(
        &mut self,
        peer: &impl Peer,
        to_user: &str,
        contacts: &[&str],
        expires: Option<u32>,
    ) -> String {
        self.cseq += 1;
        let local = peer.local();
        let mut s = format!(
            "REGISTER {} SIP/2.0\nVia: SIP/2.0/{} {local};branch=z9hG4bK-reg{};rport\nMax-Forwards: 70\n\
             From: <sip:{}@{}>;tag={}\nTo: <sip:{to_user}@{}>\nCall-ID: {}\nCSeq: {} REGISTER\n",
            self.ruri,
            peer.transport(),
            SEQ.fetch_add(1, Ordering::SeqCst),
            self.user,
            self.domain,
            self.tag,
            self.domain,
            self.call_id,
            self.cseq,
        );
        for c in contacts {
            let _ = writeln!(s, "Contact: {c}");
        }
        if let Some(e) = expires {
            let _ = writeln!(s, "Expires: {e}");
        }
        if let Some(a) = &self.auth {
            let _ = writeln!(s, "Authorization: {a}");
        }
        s.push('\n');
        s
    }

    /// Answers a 401's first (MD5) challenge as `user` / `password` for the next request.
    pub fn answer(&mut self, challenge: &Message, user: &str, password: &str) {
        let offer = challenge
            .h("WWW-Authenticate")
            .expect("WWW-Authenticate in the 401");
        self.nc += 1;
        let a = digest::answer(
            &offer, "REGISTER", &self.ruri, user, password, "feedbeef", self.nc,
        )
        .expect("answer the challenge");
        self.auth = Some(a);
    }
}

/// Sends the REGISTER without credentials, expects 401, answers it as `password` for the
/// registration's user and sends it again; returns the final response to that.
pub fn register_with_digest(
    peer: &impl Peer,
    reg: &mut Registration,
    password: &str,
    contacts: &[&str],
    expires: Option<u32>,
) -> Message {
    reg.auth = None;
    peer.send(&reg.request(peer, contacts, expires));
    let challenge = peer.expect_response(401);
    let offers = challenge.lines("WWW-Authenticate");
    assert_eq!(
        offers.len(),
        2,
        "MD5 and SHA-256 challenges:\n{}",
        challenge.text()
    );
    assert!(
        challenge.lines("Proxy-Authenticate").is_empty(),
        "{}",
        challenge.text()
    );
    let user = reg.user.clone();
    reg.answer(&challenge, &user, password);
    peer.send(&reg.request(peer, contacts, expires));
    peer.recv(super::ua::WAIT)
}

/// The `expires` parameter of each Contact of a REGISTER's 200, with its URI.
pub fn granted(ok: &Message) -> Vec<(String, u32)> {
    ok.hs("Contact")
        .iter()
        .map(|c| {
            let uri = c
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or("")
                .to_string();
            let exp = c
                .split(";expires=")
                .nth(1)
                .and_then(|v| v.split(';').next())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("Contact without expires: {c}"));
            (uri, exp)
        })
        .collect()
}
