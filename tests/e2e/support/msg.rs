//! Reading received messages (parsed with the project's own parser) and writing new ones.

use trunkgate::sip::header;
use trunkgate::sip::{HeaderName, Message};

/// Text conveniences over `trunkgate::sip::Message` for assertions.
pub trait MsgExt {
    /// The whole message as (lossy) text, for assertion messages.
    fn text(&self) -> String;
    /// The status code (panics on a request).
    fn code(&self) -> u16;
    /// The first value of a header (any name, case-insensitive, compact forms folded).
    fn h(&self, name: &str) -> Option<String>;
    /// Every comma-separated value of every line of a header.
    fn hs(&self, name: &str) -> Vec<String>;
    /// Every header line's full value (no comma splitting).
    fn lines(&self, name: &str) -> Vec<String>;
    /// The Request-URI user part.
    fn ruri_user(&self) -> String;
    /// The top Via's branch parameter.
    fn top_branch(&self) -> String;
    /// The To tag.
    fn to_tag(&self) -> Option<String>;
    /// The URI inside the first Contact.
    fn contact_uri(&self) -> Option<String>;
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl MsgExt for Message {
    fn text(&self) -> String {
        s(self.bytes())
    }

    fn code(&self) -> u16 {
        match self.status() {
            Some(c) => c,
            None => panic!("expected a response, got a request:\n{}", self.text()),
        }
    }

    fn h(&self, name: &str) -> Option<String> {
        self.lines(name).into_iter().next()
    }

    fn hs(&self, name: &str) -> Vec<String> {
        self.lines(name)
            .iter()
            .flat_map(|l| header::split_list(l.as_bytes()).map(s).collect::<Vec<_>>())
            .map(|v| v.trim().to_string())
            .collect()
    }

    fn lines(&self, name: &str) -> Vec<String> {
        let hn = HeaderName::from_bytes(name.as_bytes());
        if hn == HeaderName::Other {
            self.headers_other(name.as_bytes())
                .map(|h| s(self.slice(h.value)))
                .collect()
        } else {
            self.headers_named(hn).map(|h| s(self.slice(h.value))).collect()
        }
    }

    fn ruri_user(&self) -> String {
        let uri = self.request_uri().expect("a request");
        let parsed = header::parse_uri(uri).expect("Request-URI parses");
        s(parsed.user.unwrap_or(b""))
    }

    fn top_branch(&self) -> String {
        let via = self.top_via().expect("a Via");
        s(via.branch().unwrap_or(b""))
    }

    fn to_tag(&self) -> Option<String> {
        self.to().ok().and_then(|t| t.tag()).map(s)
    }

    fn contact_uri(&self) -> Option<String> {
        let c = self.header(HeaderName::Contact)?;
        header::parse_name_addr(c).ok().map(|na| s(na.uri_raw))
    }
}

/// Wire form of a message written in a test: `\n` → CRLF, Content-Length computed from the
/// body (any Content-Length line in `text` is replaced). `text` is headers, blank line, body.
pub fn wire(text: &str) -> Vec<u8> {
    let text = text.replace("\r\n", "\n");
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (text.trim_end_matches('\n').to_string(), String::new()),
    };
    let mut out = String::new();
    for line in head.lines().map(str::trim_start).filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:") || lower.starts_with("l:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    let body = body.replace('\n', "\r\n");
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// A small SDP offer/answer body.
pub fn sdp(ip: &str) -> String {
    format!(
        "v=0\no=- 1 1 IN IP4 {ip}\ns=-\nc=IN IP4 {ip}\nt=0 0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n"
    )
}

/// The `tg` parameter of a Record-Route / Route value, if any.
pub fn tg_of(rr: &str) -> Option<String> {
    let start = rr.find(";tg=")? + 4;
    let rest = &rr[start..];
    let end = rest.find([';', '>']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}
