//! Header names: the well-known ones as an enum (with RFC 3261 §7.3.3 compact forms),
//! everything else as `Other`, whose bytes stay in the message.

/// A header field name, decoded case-insensitively, compact forms folded into the full name.
///
/// Why an enum: the proxy asks for the same dozen headers on every message; matching an enum
/// is cheaper and less error-prone than comparing strings each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeaderName {
    Accept,
    Allow,
    Authorization,
    CallId,
    Contact,
    ContentEncoding,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    Event,
    Expires,
    From,
    MaxForwards,
    PAssertedIdentity,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    RecordRoute,
    ReferTo,
    ReferredBy,
    RemotePartyId,
    Require,
    RetryAfter,
    Route,
    Server,
    Subject,
    Supported,
    To,
    Unsupported,
    UserAgent,
    Via,
    Warning,
    WwwAuthenticate,
    /// Any other name; its bytes are in the header's `name` span.
    Other,
}

impl HeaderName {
    /// Decodes a header name (case-insensitive, compact forms included).
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        // Nearly every peer writes the canonical spelling: match it as is, no lowercasing.
        if let Some(known) = Self::canonical(name) {
            return known;
        }
        if name.len() == 1 {
            return Self::compact(name[0].to_ascii_lowercase());
        }
        let mut lower = [0u8; 24];
        if name.len() > lower.len() {
            return HeaderName::Other;
        }
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        Self::full(&lower[..name.len()])
    }

    /// The name spelled exactly as `as_str` writes it, else `None` (then decode folded).
    fn canonical(name: &[u8]) -> Option<HeaderName> {
        Some(match name {
            b"Via" => HeaderName::Via,
            b"From" => HeaderName::From,
            b"To" => HeaderName::To,
            b"Call-ID" => HeaderName::CallId,
            b"CSeq" => HeaderName::CSeq,
            b"Contact" => HeaderName::Contact,
            b"Max-Forwards" => HeaderName::MaxForwards,
            b"Content-Type" => HeaderName::ContentType,
            b"Content-Length" => HeaderName::ContentLength,
            b"Route" => HeaderName::Route,
            b"Record-Route" => HeaderName::RecordRoute,
            b"Allow" => HeaderName::Allow,
            b"Supported" => HeaderName::Supported,
            b"User-Agent" => HeaderName::UserAgent,
            b"Server" => HeaderName::Server,
            b"Authorization" => HeaderName::Authorization,
            b"Proxy-Authorization" => HeaderName::ProxyAuthorization,
            b"Proxy-Authenticate" => HeaderName::ProxyAuthenticate,
            b"WWW-Authenticate" => HeaderName::WwwAuthenticate,
            b"Expires" => HeaderName::Expires,
            b"P-Asserted-Identity" => HeaderName::PAssertedIdentity,
            _ => return None,
        })
    }

    fn compact(c: u8) -> HeaderName {
        match c {
            b'i' => HeaderName::CallId,
            b'm' => HeaderName::Contact,
            b'e' => HeaderName::ContentEncoding,
            b'l' => HeaderName::ContentLength,
            b'c' => HeaderName::ContentType,
            b'o' => HeaderName::Event,
            b'f' => HeaderName::From,
            b'r' => HeaderName::ReferTo,
            b'b' => HeaderName::ReferredBy,
            b's' => HeaderName::Subject,
            b'k' => HeaderName::Supported,
            b't' => HeaderName::To,
            b'v' => HeaderName::Via,
            _ => HeaderName::Other,
        }
    }

    fn full(lower: &[u8]) -> HeaderName {
        match lower {
            b"accept" => HeaderName::Accept,
            b"allow" => HeaderName::Allow,
            b"authorization" => HeaderName::Authorization,
            b"call-id" => HeaderName::CallId,
            b"contact" => HeaderName::Contact,
            b"content-encoding" => HeaderName::ContentEncoding,
            b"content-length" => HeaderName::ContentLength,
            b"content-type" => HeaderName::ContentType,
            b"cseq" => HeaderName::CSeq,
            b"date" => HeaderName::Date,
            b"event" => HeaderName::Event,
            b"expires" => HeaderName::Expires,
            b"from" => HeaderName::From,
            b"max-forwards" => HeaderName::MaxForwards,
            b"p-asserted-identity" => HeaderName::PAssertedIdentity,
            b"proxy-authenticate" => HeaderName::ProxyAuthenticate,
            b"proxy-authorization" => HeaderName::ProxyAuthorization,
            b"proxy-require" => HeaderName::ProxyRequire,
            b"record-route" => HeaderName::RecordRoute,
            b"refer-to" => HeaderName::ReferTo,
            b"referred-by" => HeaderName::ReferredBy,
            b"remote-party-id" => HeaderName::RemotePartyId,
            b"require" => HeaderName::Require,
            b"retry-after" => HeaderName::RetryAfter,
            b"route" => HeaderName::Route,
            b"server" => HeaderName::Server,
            b"subject" => HeaderName::Subject,
            b"supported" => HeaderName::Supported,
            b"to" => HeaderName::To,
            b"unsupported" => HeaderName::Unsupported,
            b"user-agent" => HeaderName::UserAgent,
            b"via" => HeaderName::Via,
            b"warning" => HeaderName::Warning,
            b"www-authenticate" => HeaderName::WwwAuthenticate,
            _ => HeaderName::Other,
        }
    }

    /// The canonical (long) spelling, used when trunkgate writes a header itself.
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderName::Accept => "Accept",
            HeaderName::Allow => "Allow",
            HeaderName::Authorization => "Authorization",
            HeaderName::CallId => "Call-ID",
            HeaderName::Contact => "Contact",
            HeaderName::ContentEncoding => "Content-Encoding",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::CSeq => "CSeq",
            HeaderName::Date => "Date",
            HeaderName::Event => "Event",
            HeaderName::Expires => "Expires",
            HeaderName::From => "From",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::PAssertedIdentity => "P-Asserted-Identity",
            HeaderName::ProxyAuthenticate => "Proxy-Authenticate",
            HeaderName::ProxyAuthorization => "Proxy-Authorization",
            HeaderName::ProxyRequire => "Proxy-Require",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::ReferTo => "Refer-To",
            HeaderName::ReferredBy => "Referred-By",
            HeaderName::RemotePartyId => "Remote-Party-ID",
            HeaderName::Require => "Require",
            HeaderName::RetryAfter => "Retry-After",
            HeaderName::Route => "Route",
            HeaderName::Server => "Server",
            HeaderName::Subject => "Subject",
            HeaderName::Supported => "Supported",
            HeaderName::To => "To",
            HeaderName::Unsupported => "Unsupported",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Via => "Via",
            HeaderName::Warning => "Warning",
            HeaderName::WwwAuthenticate => "WWW-Authenticate",
            HeaderName::Other => "",
        }
    }

    /// Headers whose value may be a comma-separated list (RFC 3261 §7.3.1) and which the
    /// proxy splits; the others (From, To, Call-ID, CSeq, Date, digest headers...) never are.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Contact
                | HeaderName::Allow
                | HeaderName::Require
                | HeaderName::ProxyRequire
                | HeaderName::Supported
                | HeaderName::Unsupported
                | HeaderName::Accept
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name `from_bytes` knows, in every spelling that matters.
    const ALL: [HeaderName; 34] = [
        HeaderName::Accept,
        HeaderName::Allow,
        HeaderName::Authorization,
        HeaderName::CallId,
        HeaderName::Contact,
        HeaderName::ContentEncoding,
        HeaderName::ContentLength,
        HeaderName::ContentType,
        HeaderName::CSeq,
        HeaderName::Date,
        HeaderName::Event,
        HeaderName::Expires,
        HeaderName::From,
        HeaderName::MaxForwards,
        HeaderName::PAssertedIdentity,
        HeaderName::ProxyAuthenticate,
        HeaderName::ProxyAuthorization,
        HeaderName::ProxyRequire,
        HeaderName::RecordRoute,
        HeaderName::ReferTo,
        HeaderName::ReferredBy,
        HeaderName::RemotePartyId,
        HeaderName::Require,
        HeaderName::RetryAfter,
        HeaderName::Route,
        HeaderName::Server,
        HeaderName::Subject,
        HeaderName::Supported,
        HeaderName::To,
        HeaderName::Unsupported,
        HeaderName::UserAgent,
        HeaderName::Via,
        HeaderName::Warning,
        HeaderName::WwwAuthenticate,
    ];

    #[test]
    fn every_spelling_round_trips() {
        for name in ALL {
            let s = name.as_str();
            assert_eq!(HeaderName::from_bytes(s.as_bytes()), name, "{s}");
            assert_eq!(HeaderName::from_bytes(s.to_lowercase().as_bytes()), name, "{s}");
            assert_eq!(HeaderName::from_bytes(s.to_uppercase().as_bytes()), name, "{s}");
            if let Some(canonical) = HeaderName::canonical(s.as_bytes()) {
                assert_eq!(canonical, name, "{s}");
            }
            let mut near = s.as_bytes().to_vec();
            near.push(b'x');
            assert_eq!(HeaderName::from_bytes(&near), HeaderName::Other, "{s}x");
        }
    }

    #[test]
    fn compact_and_case() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"I"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"cAlL-iD"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"X-Foo"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"Call-Id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"Via "), HeaderName::Other);
        assert_eq!(
            HeaderName::from_bytes(b"a-very-long-header-name-that-is-long"),
            HeaderName::Other
        );
    }
}
