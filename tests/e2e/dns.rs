//! Carriers named by DNS (RFC 3263): A records for a name with a port, SRV for a name without
//! one, inbound calls recognised by the resolved address, last good addresses kept when the
//! name stops resolving. A tiny DNS server runs in the test on 127.0.N.9:5353.

use std::net::SocketAddr;
use std::time::Duration;

use crate::support::dns::{DnsServer, Record};
use crate::support::routes::{account, config, dial, ip_server};
use crate::support::*;

const CALLED: &str = "+14155559876";

fn dns_server(net: &Net, records: &[(&str, Record)]) -> DnsServer {
    DnsServer::start(SocketAddr::from((net.ip(9), 5353)), records, 1)
}

fn proxy_with(net: &Net, carrier_lines: &str) -> TestProxy {
    let body = format!(
        "[[carriers]]\nname = \"named\"\nkeep_alive = false\n{carrier_lines}\n\n{}{}{}",
        account("acme", "trunks = 0"),
        ip_server("pbx", PBX, "", &[]),
        ip_server("srv", SERVER, "", &[(DID, "")]),
    );
    let extra = "dns_servers = [\"127.0.N.9:5353\"]";
    let proxy = TestProxy::start(&config(net, extra, &body));
    if let Err(e) = proxy.wait_for_log("carrier name resolved", 0, Duration::from_secs(5)) {
        panic!("the carrier name was not resolved: {e}");
    }
    proxy
}

/// The PBX dials out; `carrier` gets the INVITE and declines it.
fn call_out(net: &Net, pbx: &Ua, carrier: &Ua) -> String {
    let call = dial(net, pbx, "+14155551234", CALLED);
    let inv = carrier.expect_request("INVITE");
    carrier.respond(&inv, 486);
    carrier.expect_request("ACK");
    let resp = pbx.expect_response(486);
    pbx.send(&call.ack_non2xx(&resp));
    String::from_utf8_lossy(inv.request_uri().unwrap_or_default()).into_owned()
}

#[test]
fn carrier_hostname_resolves_by_a_record_both_ways() {
    let net = Net::next();
    let ip = net.ip(TERMINATION);
    let dns = dns_server(&net, &[("carrier.test", Record::A(ip))]);
    let proxy = proxy_with(&net, "hostname = \"carrier.test\"\nport = 5060");
    let pbx = Ua::bind(&net, PBX);
    let carrier = Ua::bind(&net, TERMINATION);
    let server = Ua::bind(&net, SERVER);

    let ruri = call_out(&net, &pbx, &carrier);
    assert!(ruri.contains("@carrier.test"), "{ruri}");

    // Inbound from the resolved address: recognised as the carrier (no challenge), routed to
    // the DID's server.
    let call = dial(&net, &carrier, "+14155551234", DID);
    let inv = server.expect_request("INVITE");
    assert_eq!(inv.ruri_user(), "4155550100");
    server.respond(&inv, 486);
    server.expect_request("ACK");
    let resp = carrier.expect_response(486);
    carrier.send(&call.ack_non2xx(&resp));

    // The name stops resolving: the last good address stays in use.
    let mark = proxy.log_mark();
    dns.set(&[]);
    if let Err(e) = proxy.wait_for_log("stopped resolving", mark, Duration::from_secs(15)) {
        panic!("no warning: {e}");
    }
    let ruri = call_out(&net, &pbx, &carrier);
    assert!(ruri.contains("@carrier.test"), "{ruri}");
}

#[test]
fn carrier_without_port_resolves_by_srv() {
    let net = Net::next();
    let _dns = dns_server(
        &net,
        &[
            (
                "_sip._udp.srv.test",
                Record::Srv(10, 5, 5080, "sip6.srv.test".into()),
            ),
            ("sip6.srv.test", Record::A(net.ip(FAILOVER))),
            ("srv.test", Record::A(net.ip(TERMINATION))),
        ],
    );
    let _proxy = proxy_with(&net, "hostname = \"srv.test\"");
    let pbx = Ua::bind(&net, PBX);
    let carrier = Ua::bind_port(&net, FAILOVER, 5080);
    let a_record = Ua::bind(&net, TERMINATION);
    let ruri = call_out(&net, &pbx, &carrier);
    assert!(
        ruri.contains("@srv.test") && !ruri.contains("srv.test:"),
        "{ruri}"
    );
    a_record.expect_silence(Duration::from_millis(100));
}
