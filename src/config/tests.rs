//! Validator and compile tests over whole config documents: one bad document per rule, each
//! asserting the exact key and line:col of the error.

use super::*;

pub(super) fn errs(text: &str) -> Vec<ConfigError> {
    match load_str("t.toml", text, 1) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    }
}

pub(super) fn ok(text: &str) -> Snapshot {
    match load_str("t.toml", text, 1) {
        Ok(s) => s,
        Err(e) => panic!("unexpected errors: {:#?}", e.0),
    }
}

/// Asserts exactly one error, at `key` `line:col`, whose message contains `msg`.
pub(super) fn one(text: &str, key: &str, line: usize, col: usize, msg: &str) {
    let e = errs(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    let e = &e[0];
    assert_eq!((e.key.as_str(), e.line, e.col), (key, line, col), "{e}");
    assert!(e.message.contains(msg), "{e}");
    assert_eq!(e.file, "t.toml");
}

const SERVER: &str = "[[connectivity]]\naccount_id = \"acme\"\n[[connectivity.servers]]\nname = \"s1\"\n";

#[test]
fn empty_config_gets_defaults() {
    let s = ok("");
    assert_eq!(s.proxy.listen.len(), 2);
    assert_eq!(s.security.auth_failures, 10);
    assert!(s.admin.is_none());
    assert_eq!(s.log.level, "info");
    assert!(!s.log.json);
}

#[test]
fn admin_table_defaults() {
    let s = ok("[admin]\n");
    let a = s.admin.unwrap();
    assert_eq!(a.listen.to_string(), "127.0.0.1:9060");
    assert_eq!(a.token, None);
}

#[test]
fn unknown_key_with_hint() {
    one(
        "[proxy]\nrelm = \"x\"\n",
        "proxy.relm",
        2,
        1,
        "unknown key (did you mean `realm`?)",
    );
    one("[proxi]\n", "proxi", 1, 2, "did you mean `proxy`");
}

#[test]
fn wrong_type() {
    one(
        "[proxy]\nnonce_ttl = \"300\"\n",
        "proxy.nonce_ttl",
        2,
        13,
        "expected an integer, found string",
    );
}

#[test]
fn bad_enum_value() {
    one(
        "[log]\nformat = \"xml\"\n",
        "log.format",
        2,
        10,
        "expected one of text, json",
    );
}

#[test]
fn enum_case_insensitive_where_seeds_allow() {
    let t = format!(
        "{SERVER}[connectivity.servers.auth]\nauth_method = \"Password\"\nauth_user = \"u\"\nauth_password = \"p\"\n"
    );
    ok(&t);
    ok("[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\ntransport = \"UDP\"\n");
}

#[test]
fn port_out_of_range() {
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\nport = 70000\n";
    one(t, "carriers[0].port", 4, 8, "between 1 and 65535");
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\nport = 0\n";
    one(t, "carriers[0].port", 4, 8, "between 1 and 65535");
}

#[test]
fn missing_required_keys() {
    let e = errs("[[carriers]]\nport = 5060\n");
    let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["carriers[0].name", "carriers[0].hostname"]);
    one(
        "[[connectivity]]\nname = \"x\"\n",
        "connectivity[0].account_id",
        1,
        1,
        "missing required key",
    );
}

#[test]
fn server_without_auth() {
    one(
        SERVER,
        "connectivity[0].servers[0].auth",
        3,
        1,
        "missing required table",
    );
}

pub(super) fn ip_server(name: &str, ip: &str, dids: &str) -> String {
    format!(
        "[[connectivity.servers]]\nname = \"{name}\"\n[connectivity.servers.auth]\nauth_method = \"ip\"\nip = \"{ip}\"\n{dids}"
    )
}

#[test]
fn did_claimed_twice_after_normalisation() {
    let t = format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}{}",
        ip_server(
            "s1",
            "127.0.0.4",
            "[connectivity.servers.DIDs.\"+14155550100\"]\n"
        ),
        ip_server("s2", "127.0.0.7", "[connectivity.servers.DIDs.\"4155550100\"]\n"),
    );
    one(
        &t,
        "connectivity[0].servers[1].DIDs.4155550100",
        14,
        28,
        "already claimed by server `s1`",
    );
}

#[test]
fn did_inside_other_servers_range_and_overlapping_ranges() {
    let t = format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}{}",
        ip_server("s1", "127.0.0.4", "[connectivity.servers.DIDs.\"+14155550350\"]\n"),
        ip_server(
            "s2",
            "127.0.0.7",
            "[connectivity.servers.options]\ndid_ranges = [\"+14155550300-+14155550399\", \"+14155550390-+14155550400\"]\n"
        ),
    );
    let e = errs(&t);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(
        (e[0].key.as_str(), e[0].line, e[0].col),
        ("connectivity[0].servers[1].options.did_ranges[0]", 15, 15)
    );
    assert!(
        e[0].message.contains("`+14155550350`, a DID of server `s1`"),
        "{}",
        e[0]
    );
    assert_eq!(e[1].key, "connectivity[0].servers[1].options.did_ranges[1]");
    assert!(e[1].message.contains("overlaps"), "{}", e[1]);
}

#[test]
fn bad_did_key() {
    let t = format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}",
        ip_server("s1", "127.0.0.4", "[connectivity.servers.DIDs.\"41555x\"]\n")
    );
    one(
        &t,
        "connectivity[0].servers[0].DIDs.41555x",
        8,
        28,
        "is not a number",
    );
}

#[test]
fn duplicate_carrier_names() {
    let c = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\n";
    one(
        &format!("{c}{c}"),
        "carriers[1].name",
        5,
        8,
        "duplicate carrier name `c`",
    );
}

pub(super) fn pw_server(name: &str, user: &str, realm: &str) -> String {
    format!(
        "[[connectivity.servers]]\nname = \"{name}\"\n[connectivity.servers.auth]\nauth_user = \"{user}\"\nauth_password = \"p\"\n{realm}"
    )
}

#[test]
fn duplicate_auth_user_within_realm() {
    let t = format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}{}",
        pw_server("s1", "pbx1", ""),
        pw_server("s2", "pbx1", "")
    );
    one(
        &t,
        "connectivity[0].servers[1].auth.auth_user",
        11,
        13,
        "already used in realm",
    );
    // Same user in another realm is fine.
    let t = format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}{}",
        pw_server("s1", "pbx1", ""),
        pw_server("s2", "pbx1", "realm = \"b.example\"\n")
    );
    let s = ok(&t);
    assert_eq!(s.server_realms, vec!["b.example"]);
    assert_eq!(s.servers[1].auth.realm, "b.example");
}

#[test]
fn ip_auth_without_ip() {
    let t = format!("{SERVER}[connectivity.servers.auth]\nauth_method = \"IP\"\n");
    one(
        &t,
        "connectivity[0].servers[0].auth.ip",
        6,
        15,
        "IP auth needs `ip`",
    );
}

#[test]
fn username_format_without_auth_user() {
    let t = format!(
        "{}[connectivity.servers.options]\ninbound_format = \"username\"\n",
        ip_server("s", "127.0.0.4", "")
    );
    let t = format!("[[connectivity]]\naccount_id = \"a\"\n{t}");
    one(
        &t,
        "connectivity[0].servers[0].options.inbound_format",
        9,
        18,
        "needs auth.auth_user",
    );
}

pub(super) fn with_options(opts: &str) -> String {
    format!(
        "[[connectivity]]\naccount_id = \"a\"\n{}[connectivity.servers.options]\n{opts}",
        ip_server("s", "127.0.0.4", "")
    )
}

#[test]
fn sip_header_rules() {
    let t = with_options("sip_headers = [ { \"X Bad\" = \"v\" }, { \"X-Ok\" = \"a\\r\\nVia: x\" } ]\n");
    let e = errs(&t);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(
        (e[0].key.as_str(), e[0].line, e[0].col),
        (
            "connectivity[0].servers[0].options.sip_headers[0].\"X Bad\"",
            9,
            19
        )
    );
    assert!(e[0].message.contains("not a valid SIP header name"));
    assert_eq!(e[1].key, "connectivity[0].servers[0].options.sip_headers[1].X-Ok");
    assert!(e[1].message.contains("CR or LF"));
    let s = ok(&with_options("sip_headers = [ { \"X-Account\" = \"acme\" } ]\n"));
    assert_eq!(
        s.servers[0].options.sip_headers,
        vec![("X-Account".to_owned(), "acme".to_owned())]
    );
}

#[test]
fn bad_regex() {
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\nrules = [\"^\\\\+1\", \"(\"]\n";
    one(t, "carriers[0].rules[1]", 4, 19, "invalid regex");
}

#[test]
fn media_process_rejected_dynamic_flags_warned() {
    one(
        &with_options("media_handling = \"process\"\n"),
        "connectivity[0].servers[0].options.media_handling",
        9,
        18,
        "not supported",
    );
    let (_, warnings) =
        load_str_with_warnings("t.toml", &with_options("dynamic_flags = [\"zone\"]\n"), 1).unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].key,
        "connectivity[0].servers[0].options.dynamic_flags"
    );
}

#[test]
fn teams_not_supported() {
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\nauth_mode = \"TEAMS\"\n";
    one(t, "carriers[0].auth_mode", 4, 13, "not supported");
}

#[test]
fn failover_loop_to_proxy() {
    one(
        &with_options("failover = { sip = \"sip:x@127.0.0.1:5060\" }\n"),
        "connectivity[0].servers[0].options.failover.sip",
        9,
        20,
        "loop",
    );
    let s = ok(&with_options(
        "failover = { sip = \"sip:backup@127.0.0.6:5060\" }\n",
    ));
    assert_eq!(
        s.servers[0].options.failover,
        Some(Failover::Sip("sip:backup@127.0.0.6:5060".into()))
    );
    let s = ok(&with_options("failover = { e164 = \"4155559999\" }\n"));
    assert_eq!(
        s.servers[0].options.failover,
        Some(Failover::E164("+14155559999".into()))
    );
}

#[test]
fn did_numbers_items() {
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\ndid_numbers = \"3000;12-345\"\n";
    one(t, "carriers[0].did_numbers", 4, 15, "range `12-345`");
    let t = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\ndid_numbers = \"3000;+14155550200-+14155550299\"\n";
    let f = ok(t).carriers[0].did_numbers.clone().unwrap();
    assert_eq!(f.exact, vec!["3000"]);
    assert_eq!(f.ranges.len(), 1);
}

#[test]
fn outbound_parameters_rules() {
    let base = "[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\n[carriers.outbound_parameters]\n";
    one(
        &format!("{base}from_user_part = {{ value = \"NONE\" }}\n"),
        "carriers[0].outbound_parameters.from_user_part.value",
        5,
        28,
        "NONE",
    );
    one(
        &format!("{base}contact_user_part = {{ value = \"AUTH_ID\" }}\n"),
        "carriers[0].outbound_parameters.contact_user_part.value",
        5,
        31,
        "only DEFAULT",
    );
    one(
        &format!("{base}to_display_name = {{ value = \"DEFAULT\" }}\n"),
        "carriers[0].outbound_parameters.to_display_name",
        5,
        1,
        "unknown key",
    );
    one(
        &format!("{base}to_host_part = {{ value = \"CALLER_NUMBER\" }}\n"),
        "carriers[0].outbound_parameters.to_host_part.value",
        5,
        26,
        "host part",
    );
    one(
        &format!("{base}from_host_part = {{ value = \"CUSTOM\", custom_value = \"a b\" }}\n"),
        "carriers[0].outbound_parameters.from_host_part.value",
        5,
        28,
        "host part",
    );
    let s = ok(&format!("{base}p_asserted_identity_user_part = {{ value = \"NONE\" }}\nfrom_user_part = {{ value = \"CUSTOM\", custom_value = \"x\" }}\n"));
    assert_eq!(s.carriers[0].outbound_parameters.len(), 2);
}

#[test]
fn listen_rules() {
    one(
        "[proxy]\nlisten = [\"udp:[::1]:5060\", \"quic:1.2.3.4:5060\"]\n",
        "proxy.listen[1]",
        2,
        29,
        "unknown transport",
    );
    let s = ok("[proxy]\nlisten = [\"udp:[::1]:5060\", \"tcp:127.0.0.1:5070\"]\n");
    assert_eq!(s.proxy.advertise, "[::1]");
    let e = errs("[proxy]\nlisten = [\"tls:127.0.0.1:5061\"]\n");
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].line, e[0].col), (2, 10));
}

#[test]
fn several_errors_all_reported() {
    let t = "[proxy]\nrelm = \"x\"\nnonce_ttl = -1\n[[carriers]]\nname = \"c\"\nhostname = \"127.0.0.5\"\nport = 0\nrules = [\"(\"]\n";
    let e = errs(t);
    let got: Vec<_> = e.iter().map(|e| (e.key.as_str(), e.line)).collect();
    assert_eq!(
        got,
        vec![
            ("proxy.relm", 2),
            ("proxy.nonce_ttl", 3),
            ("carriers[0].port", 7),
            ("carriers[0].rules[0]", 8)
        ]
    );
    assert!(e[0]
        .to_string()
        .starts_with("t.toml:2:1: proxy.relm: unknown key"));
}

#[test]
fn syntax_errors_reported_with_location() {
    let e = errs("[proxy]\nrealm = \n");
    assert!(!e.is_empty());
    assert_eq!((e[0].key.as_str(), e[0].line), ("syntax", 2));
}

#[test]
fn security_flood_keys() {
    let s = ok("");
    assert_eq!(s.security.rate_limit, 200);
    assert_eq!(s.security.rate_window.as_secs(), 2);
    assert_eq!(s.security.tcp_connections_per_ip, 32);
    let s = ok("[security]\nrate_limit = 0\nrate_window = 5\ntcp_connections_per_ip = 4\ntcp_keepalives_per_second = 3\n");
    assert_eq!(s.security.rate_limit, 0);
    assert_eq!(s.security.rate_window.as_secs(), 5);
    assert_eq!(s.security.tcp_connections_per_ip, 4);
    assert_eq!(s.security.tcp_keepalives_per_second, 3);
    one(
        "[security]\nrate_limt = 1\n",
        "security.rate_limt",
        2,
        1,
        "did you mean `rate_limit`",
    );
    one("[security]\nrate_window = 0\n", "security.rate_window", 2, 15, "");
}
