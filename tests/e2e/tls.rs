//! SIP over TLS: a PBX calling in over a `tls:` listener, the call going out to a carrier with
//! `transport = "tls"` (INVITE → 200 → ACK → BYE), and a carrier whose certificate does not
//! verify failing over to the next one.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use trunkgate::sip::Message;

use crate::support::routes::{account, config, ip_server, to_proxy};
use crate::support::tls::{untrusted_server, Cert, TlsUa};
use crate::support::ua::reply;
use crate::support::*;

const CALLED: &str = "+14155559876";

/// A TLS carrier at `127.0.N.host:5061` verified against `ca`.
fn tls_carrier(name: &str, host: u8, weight: u32, ca: &Cert) -> String {
    format!(
        "[[carriers]]\nname = \"{name}\"\nhostname = \"127.0.N.{host}\"\nport = 5061\ntransport = \"tls\"\n\
         ca_file = \"{}\"\nweight = {weight}\nkeep_alive = false\n",
        ca.path().display()
    )
}

fn start_proxy(net: &Net, proxy_cert: &Cert, carriers: &str) -> TestProxy {
    let body = format!(
        "{carriers}\n{}{}",
        account("acme", "trunks = 0"),
        ip_server("pbx", PBX, "", &[]),
    );
    let text = config(net, "", &body).replace(
        "\"tcp:127.0.",
        &format!("\"tls:127.0.{n}.1:5061\", \"tcp:127.0.", n = net.n),
    );
    let text = text.replace(
        "realm = \"edge.test\"",
        &format!(
            "realm = \"edge.test\"\ntls_certificate = \"{}\"\ntls_private_key = \"{}\"",
            proxy_cert.cert_pem.display(),
            proxy_cert.key_pem.display()
        ),
    );
    TestProxy::start(&text)
}

/// A response from a TLS UA: its Contact says `transport=tls`, so in-dialog requests come back
/// over TLS.
fn tls_reply(req: &Message, code: u16, local: SocketAddr) -> Vec<u8> {
    let text = String::from_utf8_lossy(&reply(req, code, local, &[])).into_owned();
    text.replace(
        &format!("<sip:uas@{local}>"),
        &format!("<sip:uas@{local};transport=tls>"),
    )
    .into_bytes()
}

#[test]
fn tls_call_in_and_out() {
    let net = Net::next();
    let proxy_cert = Cert::new(&net.ip(PROXY).to_string());
    let carrier_cert = Cert::new(&net.ip(TERMINATION).to_string());
    let listener = TcpListener::bind((net.ip(TERMINATION), 5061)).expect("bind carrier");
    let _proxy = start_proxy(
        &net,
        &proxy_cert,
        &tls_carrier("tls", TERMINATION, 10, &carrier_cert),
    );

    let proxy_tls = SocketAddr::from((net.ip(PROXY), 5061));
    let pbx = TlsUa::connect(&net, PBX, proxy_tls, &proxy_cert, &net.ip(PROXY).to_string());
    let mut call = UacCall::new(&pbx, "+14155551234", &to_proxy(&net, CALLED));
    pbx.send(&call.invite());
    let carrier = TlsUa::accept(&listener, &carrier_cert, WAIT).expect("the proxy connects over TLS");
    let inv = carrier.expect_request("INVITE");
    let via = &inv.hs("Via")[0];
    assert!(
        via.starts_with(&format!("SIP/2.0/TLS {}:5061;", net.ip(PROXY))),
        "{via}"
    );
    let rr = inv.hs("Record-Route");
    assert_eq!(rr.len(), 1, "{}", inv.text());
    assert!(rr[0].contains(":5061;transport=tls;lr"), "{}", rr[0]);

    carrier.send_raw(&tls_reply(&inv, 200, carrier.local()));
    let ok = pbx.expect_response(200);
    call.established(&ok);
    pbx.send(&call.ack());
    carrier.expect_request("ACK");
    pbx.send(&call.bye());
    let bye = carrier.expect_request("BYE");
    carrier.send_raw(&tls_reply(&bye, 200, carrier.local()));
    let done = pbx.expect_response(200);
    assert!(
        done.h("CSeq").is_some_and(|c| c.ends_with("BYE")),
        "{}",
        done.text()
    );
}

#[test]
fn untrusted_carrier_certificate_fails_over() {
    let net = Net::next();
    let proxy_cert = Cert::new(&net.ip(PROXY).to_string());
    let other_ca = Cert::new("someone-else.test");
    let good_cert = Cert::new(&net.ip(FAILOVER).to_string());
    let bad = untrusted_server(
        &net,
        TERMINATION,
        5061,
        Cert::new(&net.ip(TERMINATION).to_string()),
    );
    let listener = TcpListener::bind((net.ip(FAILOVER), 5061)).expect("bind good carrier");
    let carriers =
        tls_carrier("bad", TERMINATION, 10, &other_ca) + &tls_carrier("good", FAILOVER, 20, &good_cert);
    let proxy = start_proxy(&net, &proxy_cert, &carriers);

    let pbx = Ua::bind(&net, PBX);
    let call = UacCall::new(&pbx, "+14155551234", &to_proxy(&net, CALLED));
    pbx.send(&call.invite());
    let good = TlsUa::accept(&listener, &good_cert, Duration::from_secs(8)).expect("failover connects");
    let inv = good.expect_request("INVITE");
    good.send_raw(&tls_reply(&inv, 486, good.local()));
    good.expect_request("ACK");
    let resp = pbx.expect_response(486);
    pbx.send(&call.ack_non2xx(&resp));
    assert!(bad.join().unwrap_or(false), "the untrusted carrier was contacted");
    let log = proxy.stderr_so_far();
    assert!(
        log.contains("tls handshake with") && log.contains("failed"),
        "{log}"
    );
}
