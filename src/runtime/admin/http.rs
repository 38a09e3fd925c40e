//! The admin port's HTTP/1.1, sans-IO: parse a request head (httparse), describe a response,
//! serialise it. One request per connection (`Connection: close`), no chunked bodies: the four
//! routes need no more, and a client that sends more gets a clear 4xx.

/// Largest request head accepted (431 above).
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest request body accepted (413 above).
pub const MAX_BODY: usize = 4 * 1024;
const MAX_HEADERS: usize = 32;

/// The parts of a request the routes look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`... (case-sensitive, as HTTP says).
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The `Authorization` header value, if any (never logged).
    pub authorization: Option<String>,
    /// Bytes of body announced by `Content-Length`.
    pub content_length: usize,
    /// Length of the head, i.e. where the body starts in the buffer.
    pub head_len: usize,
}

/// Why a request is refused before routing; each maps to one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Not HTTP/1.x, or a bad `Content-Length` (400).
    #[error("malformed request")]
    Malformed,
    /// Head above 8 KiB or more than 32 headers (431).
    #[error("request head too large")]
    HeadTooLarge,
    /// `Content-Length` above 4 KiB (413).
    #[error("request body too large")]
    BodyTooLarge,
    /// `Transfer-Encoding` sent: only `Content-Length` bodies are read (411).
    #[error("transfer-encoding not supported")]
    Chunked,
}

impl HttpError {
    /// The response this error gets.
    pub fn response(self) -> Response {
        match self {
            HttpError::Malformed => Response::text(400, "bad request\n"),
            HttpError::HeadTooLarge => Response::text(431, "request head too large\n"),
            HttpError::BodyTooLarge => Response::text(413, "request body too large (4 KiB max)\n"),
            HttpError::Chunked => Response::text(411, "send Content-Length, not chunked\n"),
        }
    }
}

/// Parses the head in `buf`: `Ok(None)` means "read more".
pub fn parse(buf: &[u8]) -> Result<Option<Request>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(HttpError::HeadTooLarge),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadTooLarge),
        Err(_) => return Err(HttpError::Malformed),
    };
    if head_len > MAX_HEAD {
        return Err(HttpError::HeadTooLarge);
    }
    let (Some(method), Some(target)) = (req.method, req.path) else {
        return Err(HttpError::Malformed);
    };
    let mut out = Request {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or("").to_owned(),
        authorization: None,
        content_length: 0,
        head_len,
    };
    for h in req.headers.iter() {
        read_header(&mut out, h)?;
    }
    Ok(Some(out))
}

fn read_header(out: &mut Request, h: &httparse::Header<'_>) -> Result<(), HttpError> {
    let value = || {
        std::str::from_utf8(h.value)
            .map(str::trim)
            .map_err(|_| HttpError::Malformed)
    };
    if h.name.eq_ignore_ascii_case("content-length") {
        let n: usize = value()?.parse().map_err(|_| HttpError::Malformed)?;
        if n > MAX_BODY {
            return Err(HttpError::BodyTooLarge);
        }
        out.content_length = n;
    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
        return Err(HttpError::Chunked);
    } else if h.name.eq_ignore_ascii_case("authorization") {
        out.authorization = Some(value()?.to_owned());
    }
    Ok(())
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// Extra header lines (`Allow`, `WWW-Authenticate`).
    pub headers: Vec<(&'static str, &'static str)>,
    /// The body (`Content-Length` is computed from it).
    pub body: Vec<u8>,
}

impl Response {
    /// A `text/plain` response.
    pub fn text(status: u16, body: &str) -> Response {
        Response::with(status, "text/plain; charset=utf-8", body.as_bytes().to_vec())
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = value.to_string().into_bytes();
        body.push(b'\n');
        Response::with(status, "application/json", body)
    }

    /// A response with any content type.
    pub fn with(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: &'static str, value: &'static str) -> Response {
        self.headers.push((name, value));
        self
    }

    /// The bytes on the wire (HTTP/1.1, `Connection: close`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_head() {
        let r = parse(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t0k\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/metrics");
        assert_eq!(r.authorization.as_deref(), Some("Bearer t0k"));
        assert_eq!(r.content_length, 0);
    }

    #[test]
    fn partial_head_asks_for_more() {
        assert_eq!(parse(b"GET /healthz HTTP/1.1\r\nHo"), Ok(None));
    }

    #[test]
    fn oversized_body_is_413() {
        let e = parse(b"POST /reload HTTP/1.1\r\nContent-Length: 4097\r\n\r\n").unwrap_err();
        assert_eq!(e, HttpError::BodyTooLarge);
        assert_eq!(e.response().status, 413);
        let ok = parse(b"POST /reload HTTP/1.1\r\nContent-Length: 4096\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(ok.content_length, 4096);
    }

    #[test]
    fn oversized_head_is_431() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        assert_eq!(parse(&big), Err(HttpError::HeadTooLarge));
    }

    #[test]
    fn garbage_and_chunked_are_refused() {
        assert_eq!(parse(b"\x00\x01 nonsense\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(
            parse(b"POST /reload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HttpError::Chunked)
        );
        assert_eq!(
            parse(b"POST /reload HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(HttpError::Malformed)
        );
    }

    #[test]
    fn response_bytes() {
        let r = Response::text(401, "no\n").header("WWW-Authenticate", "Bearer");
        let s = String::from_utf8(r.to_bytes()).unwrap();
        assert!(s.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{s}");
        assert!(s.contains("Content-Length: 3\r\n"));
        assert!(s.contains("WWW-Authenticate: Bearer\r\n"));
        assert!(s.ends_with("\r\n\r\nno\n"));
    }
}
