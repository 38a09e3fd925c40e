//! RFC 4475 conformance: every torture message of `tests/data/rfc4475/` goes through
//! `sip::Message::parse` and the header-decoding steps the proxy runs, and must come out the way
//! the RFC says. The `CASES` table below reads like the RFC's list: one line per message, with
//! its section and what must happen to it.
//!
//! Conformance failures are not hidden: a message whose outcome differs from the RFC makes its
//! test fail with the file, the step and what the parser did. Files the lead has accepted as
//! known non-conformance go in `KNOWN_NONCONFORMING` (each with the reason); such a file that
//! starts passing fails the test too, so the list cannot go stale.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use trunkgate::sip::header;
use trunkgate::sip::{HeaderName, Message, ParseError};

/// The checks the proxy runs on a received message, in the order it runs them. An invalid
/// message must be refused by one of them; `Expect::Refused(step)` names the latest step
/// that may catch it (an earlier one is fine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// `Message::parse`.
    Parse,
    /// `Message::check_core_headers`: Call-ID, CSeq, From, To, Via present, once each where
    /// RFC 3261 allows one value, CSeq method equal to the request method.
    CoreHeaders,
    /// `Message::call_id`.
    CallId,
    /// `Message::cseq`.
    CSeq,
    /// `Message::top_via`.
    TopVia,
    /// `Message::from`.
    From,
    /// `Message::to`.
    To,
    /// `header::parse_uri` on the Request-URI; a Request-URI may not carry `?headers`
    /// (RFC 3261 §19.1.1, table of URI components).
    RequestUri,
    /// `header::parse_name_addr` on every Contact value (`*` aside).
    Contact,
}

/// What RFC 4475 asks of one message.
enum Expect {
    /// §3.1.1 / §3.4.1: parses, every step passes, then the message's own checks.
    Valid(fn(&Message)),
    /// §3.2 / §3.3 (syntactically valid): parses, every step passes, then its own checks.
    Semantic(fn(&Message)),
    /// Invalid: refused by this step at the latest. A parse error must not be
    /// `ParseError::Version` (that maps to 505; the RFC asks for 400).
    Refused(Step),
    /// Invalid: `Message::parse` must fail with this error.
    ParseFails(fn(&ParseError) -> bool, &'static str),
    /// Invalid, but the RFC lets an element ignore the fault; the proxy does: all steps pass.
    Tolerated(&'static str),
}

struct Case {
    file: &'static str,
    section: &'static str,
    expect: Expect,
}

const fn case(file: &'static str, section: &'static str, expect: Expect) -> Case {
    Case {
        file,
        section,
        expect,
    }
}

fn none(_: &Message) {}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // 3.1.1 Valid messages
    case("wsinv", "3.1.1.1", Expect::Valid(checks::wsinv)),
    case("intmeth", "3.1.1.2", Expect::Valid(checks::intmeth)),
    case("esc01", "3.1.1.3", Expect::Valid(checks::esc01)),
    case("escnull", "3.1.1.4", Expect::Valid(checks::escnull)),
    case("esc02", "3.1.1.5", Expect::Valid(checks::esc02)),
    case("lwsdisp", "3.1.1.6", Expect::Valid(checks::lwsdisp)),
    case("longreq", "3.1.1.7", Expect::Valid(checks::longreq)),
    case("dblreq", "3.1.1.8", Expect::Valid(checks::dblreq)),
    case("semiuri", "3.1.1.9", Expect::Valid(checks::semiuri)),
    case("transports", "3.1.1.10", Expect::Valid(checks::transports)),
    case("mpart01", "3.1.1.11", Expect::Valid(checks::mpart01)),
    case("unreason", "3.1.1.12", Expect::Valid(checks::unreason)),
    case("noreason", "3.1.1.13", Expect::Valid(checks::noreason)),
    // 3.1.2 Invalid messages
    case("badinv01", "3.1.2.1", Expect::Refused(Step::TopVia)),          // Via ";;,;,,": empty params
    case("clerr", "3.1.2.2", Expect::ParseFails(|e| matches!(e, ParseError::BodyTooShort), "BodyTooShort")),
    case("ncl", "3.1.2.3", Expect::ParseFails(|e| matches!(e, ParseError::ContentLength), "ContentLength")),
    case("scalar02", "3.1.2.4", Expect::Refused(Step::CSeq)),            // CSeq 36893488147419103232
    case("scalarlg", "3.1.2.5", Expect::Refused(Step::CSeq)),            // response, CSeq 9292394834772304023312
    case("quotbal", "3.1.2.6", Expect::Refused(Step::To)),               // To: "Mr. J. User <sip:...>
    case("ltgtruri", "3.1.2.7", Expect::Refused(Step::RequestUri)),      // INVITE <sip:...> SIP/2.0
    case("lwsruri", "3.1.2.8", Expect::Refused(Step::RequestUri)),       // sip:user@example.com; lr
    case("lwsstart", "3.1.2.9", Expect::Refused(Step::RequestUri)),      // two SPs between elements
    case("trws", "3.1.2.10", Expect::Refused(Step::Parse)),              // SPs after SIP/2.0
    case("escruri", "3.1.2.11", Expect::Refused(Step::RequestUri)),      // ?Route= in the Request-URI
    case("baddate", "3.1.2.12", Expect::Tolerated("the proxy never reads Date; the RFC allows ignoring it")),
    case("regbadct", "3.1.2.13", Expect::Refused(Step::Contact)),        // addr-spec with '?' outside <>
    case("badaspec", "3.1.2.14", Expect::Refused(Step::To)),             // < sip:t.watson@example.org >
    case("baddn", "3.1.2.15", Expect::Refused(Step::From)),              // Bell, Alexander <...> unquoted
    case("badvers", "3.1.2.16", Expect::ParseFails(|e| matches!(e, ParseError::Version), "Version")),
    case("mismatch01", "3.1.2.17", Expect::Refused(Step::CoreHeaders)),  // OPTIONS with CSeq INVITE
    case("mismatch02", "3.1.2.18", Expect::Refused(Step::CoreHeaders)),  // NEWMETHOD with CSeq INVITE
    case("bigcode", "3.1.2.19", Expect::Refused(Step::Parse)),           // status 4294967301
    // 3.2 Transaction layer
    case("badbranch", "3.2.1", Expect::Semantic(checks::badbranch)),
    // 3.3 Application layer
    case("insuf", "3.3.1", Expect::Refused(Step::CoreHeaders)),          // no Call-ID, From, To
    case("unkscm", "3.3.2", Expect::Semantic(checks::unkscm)),
    case("novelsc", "3.3.3", Expect::Semantic(checks::novelsc)),
    case("unksm2", "3.3.4", Expect::Semantic(checks::unksm2)),
    case("bext01", "3.3.5", Expect::Semantic(checks::bext01)),
    case("invut", "3.3.6", Expect::Semantic(none)),
    case("regaut01", "3.3.7", Expect::Semantic(none)),
    case("multi01", "3.3.8", Expect::Refused(Step::CoreHeaders)),        // 2 Call-ID, CSeq, From, To
    case("mcl01", "3.3.9", Expect::Refused(Step::CoreHeaders)),          // Content-Length 13 and 5
    case("bcast", "3.3.10", Expect::Semantic(checks::bcast)),
    case("zeromf", "3.3.11", Expect::Semantic(checks::zeromf)),
    case("cparam01", "3.3.12", Expect::Semantic(checks::cparam01)),
    case("cparam02", "3.3.13", Expect::Semantic(checks::cparam02)),
    case("regescrt", "3.3.14", Expect::Semantic(checks::regescrt)),
    case("sdp01", "3.3.15", Expect::Semantic(none)),
    // 3.4 Backward compatibility
    case("inv2543", "3.4.1", Expect::Valid(checks::inv2543)),
];

/// CONFORMANCE: open conformance bugs this suite found, one per file, with what the parser does.
/// Their assertions above are unchanged; a listed file that starts conforming fails the run, so
/// fixing the parser means deleting the line here.
const KNOWN_NONCONFORMING: &[(&str, &str)] = &[];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475")
}

fn load(file: &str) -> Bytes {
    let path = data_dir().join(format!("{file}.dat"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Runs the proxy's steps after a successful parse; the first refusal wins.
fn run_steps(msg: &Message) -> Result<(), (Step, String)> {
    let at = |step: Step| move |e: &dyn std::fmt::Debug| (step, format!("{e:?}"));
    msg.check_core_headers().map_err(|e| at(Step::CoreHeaders)(&e))?;
    msg.call_id().map_err(|e| at(Step::CallId)(&e))?;
    msg.cseq().map_err(|e| at(Step::CSeq)(&e))?;
    msg.top_via().map_err(|e| at(Step::TopVia)(&e))?;
    msg.from().map_err(|e| at(Step::From)(&e))?;
    msg.to().map_err(|e| at(Step::To)(&e))?;
    if let Some(raw) = msg.request_uri() {
        let uri = header::parse_uri(raw).map_err(|e| at(Step::RequestUri)(&e))?;
        if uri.headers.is_some() {
            return Err((Step::RequestUri, "headers in the Request-URI".into()));
        }
    }
    for value in msg.header_values(HeaderName::Contact).filter(|v| *v != b"*") {
        header::parse_name_addr(value).map_err(|e| at(Step::Contact)(&e))?;
    }
    Ok(())
}

/// What happened to one file, as a sentence for the failure report; `Ok` when it met the RFC.
fn outcome(case: &Case) -> Result<(), String> {
    let bytes = load(case.file);
    let parsed = catch_unwind(AssertUnwindSafe(|| Message::parse(bytes)))
        .map_err(|p| format!("Message::parse panicked: {}", panic_text(&p)))?;
    let steps = parsed
        .as_ref()
        .ok()
        .map(|m| catch_unwind(AssertUnwindSafe(|| run_steps(m))));
    let steps = match steps {
        Some(Err(p)) => return Err(format!("a decoding step panicked: {}", panic_text(&p))),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    match (&case.expect, &parsed, steps) {
        (Expect::Valid(f) | Expect::Semantic(f), Ok(msg), Some(Ok(()))) => run_checks(*f, msg),
        (Expect::Tolerated(_), Ok(_), Some(Ok(()))) => Ok(()),
        (Expect::Tolerated(why), r, s) => Err(format!(
            "must be tolerated ({why}), got {:?} / {s:?}",
            r.as_ref().err()
        )),
        (Expect::Valid(_) | Expect::Semantic(_), Err(e), _) => Err(format!("must parse, got {e:?}")),
        (Expect::Valid(_) | Expect::Semantic(_), Ok(_), Some(Err((s, e)))) => {
            Err(format!("must pass every step, refused at {s:?}: {e}"))
        }
        (Expect::ParseFails(ok, want), Err(e), _) if ok(e) => Ok(()),
        (Expect::ParseFails(_, want), r, _) => Err(format!(
            "must fail to parse with {want}, got {:?}",
            r.as_ref().err()
        )),
        (Expect::Refused(_), Err(ParseError::Version), _) => {
            Err("refused as Version (505), RFC asks 400".into())
        }
        (Expect::Refused(_), Err(_), _) => Ok(()),
        (Expect::Refused(latest), Ok(_), Some(Err((s, _)))) if s <= *latest => Ok(()),
        (Expect::Refused(latest), Ok(_), Some(Err((s, e)))) => Err(format!(
            "must be refused by {latest:?} at the latest, was only at {s:?}: {e}"
        )),
        (Expect::Refused(latest), Ok(_), _) => {
            Err(format!("must be refused by {latest:?}, passed every step"))
        }
        (_, Ok(_), None) => unreachable!("steps run on every parsed message"),
    }
}

fn run_checks(f: fn(&Message), msg: &Message) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| f(msg))).map_err(|p| format!("check failed: {}", panic_text(&p)))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs the cases selected by `pick` and fails with one line per message that missed the RFC.
fn run_class(pick: fn(&Expect) -> bool) {
    let mut failures = Vec::new();
    for case in CASES.iter().filter(|c| pick(&c.expect)) {
        let known = KNOWN_NONCONFORMING.iter().find(|(f, _)| *f == case.file);
        match (outcome(case), known) {
            (Ok(()), Some(_)) => failures.push(format!(
                "{} (§{}): now conforms, remove it from KNOWN_NONCONFORMING",
                case.file, case.section
            )),
            (Err(why), None) => {
                failures.push(format!("{}.dat (RFC 4475 §{}): {why}", case.file, case.section))
            }
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "RFC 4475 conformance failures:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn valid_messages_parse_and_decode() {
    run_class(|e| matches!(e, Expect::Valid(_)));
}

#[test]
fn invalid_messages_are_refused() {
    run_class(|e| {
        matches!(
            e,
            Expect::Refused(_) | Expect::ParseFails(..) | Expect::Tolerated(_)
        )
    });
}

#[test]
fn semantic_messages_parse() {
    run_class(|e| matches!(e, Expect::Semantic(_)));
}

/// The table covers exactly the files on disk, and each file still has the octets INDEX.md
/// recorded (a checkout that rewrote line ends would change what every test means).
#[test]
fn corpus_matches_index() {
    let index = std::fs::read_to_string(data_dir().join("INDEX.md")).expect("INDEX.md");
    let mut on_disk: Vec<String> = std::fs::read_dir(data_dir())
        .expect("corpus dir")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".dat")
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = CASES.iter().map(|c| c.file.to_owned()).collect();
    in_table.sort();
    assert_eq!(on_disk, in_table);
    for case in CASES {
        let digest = Sha256::digest(load(case.file));
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let row = format!("| {}.dat | {} |", case.file, case.section);
        let line = index
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("{row} not in INDEX.md"));
        assert!(
            line.ends_with(&format!("| {hex} |")),
            "{}: octets differ from INDEX.md",
            case.file
        );
    }
}

/// Per-message assertions (the values RFC 4475 describes), kept apart to keep files small.
#[path = "torture/checks.rs"]
mod checks;
