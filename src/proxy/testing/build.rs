//! Message builders for scripted endpoints: the requests of a UAC ([`Uac`]: INVITE with SDP,
//! CANCEL, ACK, BYE), the responses of a UAS to a request it received ([`respond`]) and the BYE
//! a callee sends ([`callee_bye`]). Everything is plain text; inputs are trusted test data.

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;

use crate::sip::header::parse_name_addr;
use crate::sip::{reason_phrase, HeaderName, Message, ResponseBuilder};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// The caller of one call: its identity (Call-ID, From tag, INVITE branch) and CSeq counter.
#[derive(Debug, Clone)]
pub struct Uac {
    /// Where it sends from (and its Contact).
    pub addr: SocketAddr,
    pub call_id: String,
    pub from_tag: String,
    /// The Request-URI of the INVITE.
    pub ruri: String,
    /// The number called (To user).
    pub to_user: String,
    /// The Via branch of the INVITE (its CANCEL and non-2xx ACK reuse it).
    pub branch: String,
    /// CSeq of the INVITE; in-dialog requests count up from it.
    pub cseq: u32,
    /// Next in-dialog branch counter.
    next: u32,
}

impl Uac {
    /// Call number `n` from `addr` to `number` (Request-URI `sip:number@127.0.0.1:5060`).
    pub fn new(addr: SocketAddr, n: u64, number: &str) -> Uac {
        Uac {
            addr,
            call_id: format!("call-{n}@{}", addr.ip()),
            from_tag: format!("uac{n}"),
            ruri: format!("sip:{number}@127.0.0.1:5060"),
            to_user: number.to_owned(),
            branch: format!("z9hG4bKuac{n}x1"),
            cseq: 1,
            next: 1,
        }
    }

    fn common(&self, method: &str, ruri: &str, branch: &str, to: &str, cseq: u32) -> String {
        let mut s = String::with_capacity(512);
        let _ = write!(
            s,
            "{method} {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {a};rport;branch={branch}\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice\" <sip:+12125550199@{ip}>;tag={tag}\r\n\
             To: {to}\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} {method}\r\n",
            a = self.addr,
            ip = self.addr.ip(),
            tag = self.from_tag,
            cid = self.call_id,
        );
        s
    }

    fn to_plain(&self) -> String {
        format!("<sip:{}@127.0.0.1>", self.to_user)
    }

    /// The INVITE, with Contact and an SDP offer.
    pub fn invite(&self) -> Bytes {
        self.invite_with_headers("")
    }

    /// The INVITE with `extra` (whole header lines) before its Contact.
    fn invite_with_headers(&self, extra: &str) -> Bytes {
        let mut s = self.common("INVITE", &self.ruri, &self.branch, &self.to_plain(), self.cseq);
        let _ = write!(
            s,
            "{extra}Contact: <sip:+12125550199@{}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
            self.addr,
            SDP.len()
        );
        Bytes::from(s)
    }

    /// The INVITE again after a challenge: next CSeq, new branch, `header` (e.g. the
    /// `Proxy-Authorization` line, without CRLF) added.
    pub fn reinvite_with(&mut self, header: &str) -> Bytes {
        self.cseq += 1;
        self.branch = format!("{}r{}", self.branch, self.cseq);
        self.invite_with_headers(&format!("{header}\r\n"))
    }

    /// CANCEL for the INVITE (same Request-URI, branch, To and CSeq number).
    pub fn cancel(&self) -> Bytes {
        let mut s = self.common("CANCEL", &self.ruri, &self.branch, &self.to_plain(), self.cseq);
        s.push_str("Content-Length: 0\r\n\r\n");
        Bytes::from(s)
    }

    /// ACK for a final response to the INVITE: hop by hop for a non-2xx (same branch, To from
    /// the response), end to end for a 2xx (new branch, Request-URI = Contact, Route = the
    /// reversed Record-Route).
    pub fn ack(&mut self, resp: &Message) -> Bytes {
        let to = header_str(resp, HeaderName::To);
        if resp.status().is_some_and(|c| c >= 300) {
            let mut s = self.common("ACK", &self.ruri, &self.branch, &to, self.cseq);
            s.push_str("Content-Length: 0\r\n\r\n");
            return Bytes::from(s);
        }
        self.in_dialog("ACK", resp, self.cseq)
    }

    /// BYE in the dialog a 2xx created.
    pub fn bye(&mut self, ok: &Message) -> Bytes {
        self.in_dialog("BYE", ok, self.cseq + 1)
    }

    fn in_dialog(&mut self, method: &str, ok: &Message, cseq: u32) -> Bytes {
        self.next += 1;
        let branch = format!("{}d{}", self.branch, self.next);
        let ruri = contact_uri(ok).unwrap_or_else(|| self.ruri.clone());
        let to = header_str(ok, HeaderName::To);
        let mut s = self.common(method, &ruri, &branch, &to, cseq);
        let mut rr: Vec<String> = record_routes(ok);
        rr.reverse();
        for r in rr {
            let _ = write!(s, "Route: {r}\r\n");
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        Bytes::from(s)
    }
}

/// A UAS's response to `req`: Via, From, To (with `to_tag` when it had none), Call-ID and CSeq
/// copied; for 101-299 to an INVITE the Record-Route values echoed and a Contact at `contact`;
/// a 2xx to an INVITE carries an SDP answer.
pub fn respond(req: &Message, code: u16, to_tag: &str, contact: Option<SocketAddr>) -> Bytes {
    let rr = record_routes(req);
    let contact = contact.map(|a| format!("<sip:uas@{a}>"));
    let mut b = ResponseBuilder::new(req, code, reason_phrase(code));
    if code > 100 {
        b = b.to_tag(to_tag.as_bytes());
    }
    let dialog = (101..300).contains(&code) && req.method() == Some(crate::sip::Method::Invite);
    if dialog {
        for r in &rr {
            b = b.header("Record-Route", r.as_bytes());
        }
        if let Some(c) = &contact {
            b = b.header("Contact", c.as_bytes());
        }
    }
    if dialog && code >= 200 {
        b = b.body("application/sdp", SDP.as_bytes());
    }
    b.build()
}

/// The BYE a callee at `from` sends in the dialog of `invite` (as it received it) after
/// answering it with `to_tag`: Route = the Record-Route values in order, Request-URI = the
/// caller's Contact, From/To swapped.
pub fn callee_bye(invite: &Message, to_tag: &str, from: SocketAddr, cseq: u32) -> Bytes {
    let ruri = contact_uri(invite).unwrap_or_default();
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        "BYE {ruri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bKuasbye{cseq}{to_tag}\r\n\
         Max-Forwards: 70\r\n\
         From: {to};tag={to_tag}\r\n\
         To: {fr}\r\n\
         Call-ID: {cid}\r\n\
         CSeq: {cseq} BYE\r\n",
        to = header_str(invite, HeaderName::To),
        fr = header_str(invite, HeaderName::From),
        cid = header_str(invite, HeaderName::CallId),
    );
    for r in record_routes(invite) {
        let _ = write!(s, "Route: {r}\r\n");
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    Bytes::from(s)
}

/// Every Record-Route value of `m`, in order.
pub fn record_routes(m: &Message) -> Vec<String> {
    m.header_values(HeaderName::RecordRoute)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// The URI of the first Contact of `m`.
pub fn contact_uri(m: &Message) -> Option<String> {
    let c = m.header_values(HeaderName::Contact).next()?;
    let na = parse_name_addr(c).ok()?;
    Some(String::from_utf8_lossy(na.uri_raw).into_owned())
}

/// The first value of a header as text (empty when absent).
pub fn header_str(m: &Message, name: HeaderName) -> String {
    String::from_utf8_lossy(m.header(name).unwrap_or(b"")).into_owned()
}
