//! `framing` target: `sip::frame` over an arbitrary byte stream cut into arbitrary chunks, the
//! way a TCP reader sees it. Lengths stay inside the buffer, framed messages parse or fail
//! cleanly, and every chunking of the same bytes yields the same frames.

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use trunkgate::sip::{frame, Frame, Message};

/// One fuzz case: a size limit, where to cut the stream, and the stream.
#[derive(Debug, Arbitrary)]
struct Case {
    limit: u16,
    cuts: Vec<u16>,
    stream: Vec<u8>,
}

/// What a reader does with the stream, with keep-alive runs merged (chunking may split them).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    KeepAlive(usize),
    Message(Vec<u8>),
    TooLarge,
    Invalid,
    /// Bytes left buffered when the stream ended.
    Rest(usize),
}

/// Runs one input through every check of the target.
pub fn run(data: &[u8]) {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let limit = 16 + usize::from(case.limit) % 4096;
    let whole = read(&[&case.stream[..]], limit);
    let mut cuts: Vec<usize> = case
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (case.stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let chunks = split(&case.stream, &cuts);
    let chunked = read(&chunks, limit);
    assert_eq!(whole, chunked, "chunking changed the frames (cuts {cuts:?})");
    if case.stream.len() <= 512 {
        let bytewise: Vec<&[u8]> = case.stream.chunks(1).collect();
        assert_eq!(
            whole,
            read(&bytewise, limit),
            "byte-by-byte reading changed the frames"
        );
    }
}

/// The stream cut at the (sorted) offsets.
fn split<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for &c in cuts {
        out.push(&stream[from..c]);
        from = c;
    }
    out.push(&stream[from..]);
    out
}

/// A connection reader: append each chunk, take every whole frame off the front.
fn read(chunks: &[&[u8]], limit: usize) -> Vec<Seen> {
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        if drain(&mut buf, limit, &mut seen) {
            return seen;
        }
    }
    if !buf.is_empty() {
        seen.push(Seen::Rest(buf.len()));
    }
    seen
}

/// Takes frames off `buf`; `true` when the connection must close.
fn drain(buf: &mut Vec<u8>, limit: usize, seen: &mut Vec<Seen>) -> bool {
    loop {
        match frame(buf, limit) {
            Frame::Incomplete => return false,
            Frame::KeepAlive(n) => {
                assert!(n > 0 && n <= buf.len(), "KeepAlive({n}) over {} bytes", buf.len());
                match seen.last_mut() {
                    Some(Seen::KeepAlive(k)) => *k += n,
                    _ => seen.push(Seen::KeepAlive(n)),
                }
                buf.drain(..n);
            }
            Frame::Message(n) => {
                assert!(n > 0 && n <= buf.len(), "Message({n}) over {} bytes", buf.len());
                assert!(n <= limit, "Message({n}) over the limit {limit}");
                let msg: Vec<u8> = buf.drain(..n).collect();
                let _ = Message::parse(Bytes::from(msg.clone())).map(|m| m.check_core_headers());
                seen.push(Seen::Message(msg));
            }
            Frame::TooLarge => {
                seen.push(Seen::TooLarge);
                return true;
            }
            Frame::Invalid => {
                seen.push(Seen::Invalid);
                return true;
            }
        }
    }
}
