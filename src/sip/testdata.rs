//! Sample messages shared by the `sip` unit tests (CRLF line ends, exact octets).

/// Start line of `INVITE_SDP` (with its CRLF).
pub(crate) const INVITE_SDP_START: &str = "INVITE sip:+14155550100@203.0.113.10:5060;user=phone SIP/2.0\r\n";

/// (name, value) of every header of `INVITE_SDP`, in order.
pub(crate) const INVITE_SDP_HEADERS: [(&str, &str); 14] = [
    (
        "Via",
        "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1---7d6d5a0c2e9b4f1a;rport",
    ),
    ("Max-Forwards", "69"),
    ("Record-Route", "<sip:198.51.100.20;lr;ftag=as4f2a9b1c>"),
    ("Route", "<sip:203.0.113.10;lr>"),
    (
        "From",
        "\"WIRELESS CALLER\" <sip:+12125550199@198.51.100.20;user=phone>;tag=as4f2a9b1c",
    ),
    ("To", "<sip:+14155550100@203.0.113.10;user=phone>"),
    ("Contact", "<sip:+12125550199@198.51.100.20:5060;transport=udp>"),
    ("Call-ID", "3c26700a7f4e2d0b5f1e9a8d6c4b2a10@198.51.100.20"),
    ("CSeq", "102 INVITE"),
    (
        "Allow",
        "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, PRACK, UPDATE",
    ),
    ("Supported", "replaces, timer, 100rel"),
    (
        "P-Asserted-Identity",
        "<sip:+12125550199@198.51.100.20;user=phone>",
    ),
    ("Content-Type", "application/sdp"),
    ("Content-Length", "317"),
];

/// Body of `INVITE_SDP`.
pub(crate) const INVITE_SDP_BODY: &str = concat!(
    "v=0\r\n",
    "o=CarrierSBC 1706541234 1706541235 IN IP4 198.51.100.21\r\n",
    "s=SIP Media Capabilities\r\n",
    "c=IN IP4 198.51.100.21\r\n",
    "t=0 0\r\n",
    "m=audio 31472 RTP/AVP 0 8 18 101\r\n",
    "a=rtpmap:0 PCMU/8000\r\n",
    "a=rtpmap:8 PCMA/8000\r\n",
    "a=rtpmap:18 G729/8000\r\n",
    "a=fmtp:18 annexb=no\r\n",
    "a=rtpmap:101 telephone-event/8000\r\n",
    "a=fmtp:101 0-15\r\n",
    "a=ptime:20\r\n",
    "a=sendrecv\r\n",
);

/// A realistic carrier INVITE with SDP (1070 bytes, 14 headers).
pub(crate) const INVITE_SDP: &[u8] = concat!(
    "INVITE sip:+14155550100@203.0.113.10:5060;user=phone SIP/2.0\r\n",
    "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1---7d6d5a0c2e9b4f1a;rport\r\n",
    "Max-Forwards: 69\r\n",
    "Record-Route: <sip:198.51.100.20;lr;ftag=as4f2a9b1c>\r\n",
    "Route: <sip:203.0.113.10;lr>\r\n",
    "From: \"WIRELESS CALLER\" <sip:+12125550199@198.51.100.20;user=phone>;tag=as4f2a9b1c\r\n",
    "To: <sip:+14155550100@203.0.113.10;user=phone>\r\n",
    "Contact: <sip:+12125550199@198.51.100.20:5060;transport=udp>\r\n",
    "Call-ID: 3c26700a7f4e2d0b5f1e9a8d6c4b2a10@198.51.100.20\r\n",
    "CSeq: 102 INVITE\r\n",
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, PRACK, UPDATE\r\n",
    "Supported: replaces, timer, 100rel\r\n",
    "P-Asserted-Identity: <sip:+12125550199@198.51.100.20;user=phone>\r\n",
    "Content-Type: application/sdp\r\n",
    "Content-Length: 317\r\n",
    "\r\n",
    "v=0\r\n",
    "o=CarrierSBC 1706541234 1706541235 IN IP4 198.51.100.21\r\n",
    "s=SIP Media Capabilities\r\n",
    "c=IN IP4 198.51.100.21\r\n",
    "t=0 0\r\n",
    "m=audio 31472 RTP/AVP 0 8 18 101\r\n",
    "a=rtpmap:0 PCMU/8000\r\n",
    "a=rtpmap:8 PCMA/8000\r\n",
    "a=rtpmap:18 G729/8000\r\n",
    "a=fmtp:18 annexb=no\r\n",
    "a=rtpmap:101 telephone-event/8000\r\n",
    "a=fmtp:101 0-15\r\n",
    "a=ptime:20\r\n",
    "a=sendrecv\r\n",
)
.as_bytes();

/// 180 Ringing with two Via lines and a To tag.
pub(crate) const RINGING: &[u8] = concat!(
    "SIP/2.0 180 Ringing\r\n",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtg1;received=192.0.2.1\r\n",
    "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1\r\n",
    "From: <sip:+12125550199@198.51.100.20>;tag=as4f2a9b1c\r\n",
    "To: <sip:+14155550100@203.0.113.10>;tag=pbx-77\r\n",
    "Call-ID: 3c26700a7f4e2d0b@198.51.100.20\r\n",
    "CSeq: 102 INVITE\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// 200 OK to a BYE.
pub(crate) const OK_BYE: &[u8] = concat!(
    "SIP/2.0 200 OK\r\n",
    "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKok1\r\n",
    "From: <sip:a@example.com>;tag=1\r\n",
    "To: <sip:b@example.com>;tag=2\r\n",
    "Call-ID: ok-1@example.com\r\n",
    "CSeq: 3 BYE\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// An in-dialog BYE.
pub(crate) const BYE: &[u8] = concat!(
    "BYE sip:+12125550199@198.51.100.20:5060 SIP/2.0\r\n",
    "Via: SIP/2.0/UDP 10.0.0.4:5060;branch=z9hG4bKbye1\r\n",
    "Max-Forwards: 70\r\n",
    "Route: <sip:192.0.2.1;lr>\r\n",
    "From: <sip:+14155550100@203.0.113.10>;tag=pbx-77\r\n",
    "To: <sip:+12125550199@198.51.100.20>;tag=as4f2a9b1c\r\n",
    "Call-ID: 3c26700a7f4e2d0b@198.51.100.20\r\n",
    "CSeq: 1 BYE\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// A REGISTER with digest credentials.
pub(crate) const REGISTER: &[u8] = concat!(
    "REGISTER sips:edge.test SIP/2.0\r\n",
    "Via: SIP/2.0/TLS 10.0.0.4:5061;branch=z9hG4bKreg1\r\n",
    "Max-Forwards: 70\r\n",
    "From: <sips:pbx1@edge.test>;tag=r1\r\n",
    "To: <sips:pbx1@edge.test>\r\n",
    "Call-ID: reg-1@10.0.0.4\r\n",
    "CSeq: 2 REGISTER\r\n",
    "Contact: <sips:pbx1@10.0.0.4:5061>;expires=600\r\n",
    "Authorization: Digest username=\"pbx1\", realm=\"edge.test\", nonce=\"abc\", uri=\"sips:edge.test\", ",
    "response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// A response with three Via values, two of them on one line.
pub(crate) const RESPONSE_MULTI_VIA: &[u8] = concat!(
    "SIP/2.0 200 OK\r\n",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb\r\n",
    "Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bKc\r\n",
    "From: <sip:a@example.com>;tag=1\r\n",
    "To: <sip:b@example.com>;tag=2\r\n",
    "Call-ID: multi-1@example.com\r\n",
    "CSeq: 7 OPTIONS\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// Folding, compact forms, odd whitespace and a multi-value compact Via.
pub(crate) const FOLDED_COMPACT: &[u8] = concat!(
    "OPTIONS sip:b@example.com SIP/2.0\r\n",
    "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa,\r\n",
    "   SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb\r\n",
    "f   :<sip:alice@example.com>;tag=1\r\n",
    "t:\t<sip:b@example.com>\r\n",
    "i: fold-1@example.com\r\n",
    "CSeq: 1\r\n",
    " OPTIONS\r\n",
    "Subject: folded\r\n",
    "  over two lines\r\n",
    "Max-Forwards: 70\r\n",
    "l: 0\r\n",
    "\r\n",
)
.as_bytes();

/// An OPTIONS over IPv6.
pub(crate) const IPV6_OPTIONS: &[u8] = concat!(
    "OPTIONS sip:[2001:db8::10]:5060 SIP/2.0\r\n",
    "Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK6\r\n",
    "Max-Forwards: 70\r\n",
    "From: <sip:ping@[2001:db8::9]>;tag=6\r\n",
    "To: <sip:[2001:db8::10]>\r\n",
    "Call-ID: v6-1@2001:db8::9\r\n",
    "CSeq: 1 OPTIONS\r\n",
    "Content-Length: 0\r\n",
    "\r\n",
)
.as_bytes();

/// Every sample, named.
pub(crate) const ALL: [(&str, &[u8]); 8] = [
    ("invite_sdp", INVITE_SDP),
    ("ringing", RINGING),
    ("ok_bye", OK_BYE),
    ("bye", BYE),
    ("register", REGISTER),
    ("response_multi_via", RESPONSE_MULTI_VIA),
    ("folded_compact", FOLDED_COMPACT),
    ("ipv6_options", IPV6_OPTIONS),
];
