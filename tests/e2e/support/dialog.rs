//! The called side of a dialog in a test: in-dialog requests a UAS sends back towards the
//! caller (RFC 3261 §12.1.1: route set = the INVITE's Record-Route in order, remote target =
//! its Contact), and header values read from the text a test sent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use trunkgate::sip::Message;

use super::msg::MsgExt;

static SEQ: AtomicU64 = AtomicU64::new(1);

/// The value of the first `name:` line of a message written as text.
pub fn header_in(text: &str, name: &str) -> String {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    text.lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

/// A request the callee at `local` sends in the dialog of `invite` after answering it with
/// To tag `tag`: From is the INVITE's To (with our tag), To its From, CSeq `cseq`.
pub fn callee_request(invite: &Message, local: SocketAddr, tag: &str, method: &str, cseq: u32) -> String {
    let target = invite.contact_uri().expect("Contact in INVITE");
    let from = invite.h("To").expect("To");
    let to = invite.h("From").expect("From");
    let call_id = invite.h("Call-ID").expect("Call-ID");
    let branch = format!("z9hG4bK-uas{}", SEQ.fetch_add(1, Ordering::SeqCst));
    let mut s = format!(
        "{method} {target} SIP/2.0\nVia: SIP/2.0/UDP {local};branch={branch};rport\nMax-Forwards: 70\nFrom: {from};tag={tag}\nTo: {to}\nCall-ID: {call_id}\nCSeq: {cseq} {method}\n"
    );
    for rr in invite.hs("Record-Route") {
        s.push_str(&format!("Route: {rr}\n"));
    }
    s.push('\n');
    s
}

/// The To tag `ua::reply` gives for a UA at `local`.
pub fn reply_tag(local: SocketAddr) -> String {
    format!("uas{}", local.ip().to_string().replace('.', ""))
}
