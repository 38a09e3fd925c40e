//! Validator and compile tests over whole config documents: one bad document per rule, each
//! asserting the exact key and line:col of the error.

use std::net::IpAddr;

use super::*;

fn errs(text: &str) -> Vec<ConfigError> {
    match load_str("t.toml", text, 1) {
        Ok(_) => Vec::new(),
        Err(e) => e.0,
    }
}

fn ok(text: &str) -> Snapshot {
    match load_str("t.toml", text, 1) {
        Ok(s) => s,
        Err(e) => panic!("unexpected errors: {:#?}", e.0),
    }
}

/// Asserts exactly one error, at `key` `line:col`, whose message contains `msg`.
fn one(text: &str, key: &str, line: usize, col: usize, msg: &str) {
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

fn ip_server(name: &str, ip: &str, dids: &str) -> String {
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

fn pw_server(name: &str, user: &str, realm: &str) -> String {
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

fn with_options(opts: &str) -> String {
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
    assert_eq!(s.proxy.advertise, "::1");
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
fn compile_source_index_lpm_and_port() {
    let t = format!(
        "[[carriers]]\nname = \"a\"\nhostname = \"127.0.0.2\"\nadditional_ips = \"192.0.2.0/24;198.51.100.7\"\n\
         [[carriers]]\nname = \"b\"\nhostname = \"192.0.2.9\"\nverify_port = true\nport = 5070\n\
         [[connectivity]]\naccount_id = \"x\"\n{}",
        ip_server("s", "192.0.2.0/24", "port = 5080\n")
    );
    let s = ok(&t);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let a = SourceEntry {
        owner: SourceOwner::Carrier(CarrierId(0)),
        port: None,
    };
    let b = SourceEntry {
        owner: SourceOwner::Carrier(CarrierId(1)),
        port: Some(5070),
    };
    let srv = SourceEntry {
        owner: SourceOwner::Server(ServerId(0)),
        port: Some(5080),
    };
    assert_eq!(s.sources.lookup(ip("127.0.0.2")), &[a]);
    assert_eq!(s.sources.lookup(ip("192.0.2.9")), &[b]);
    assert_eq!(s.sources.lookup(ip("192.0.2.10")), &[a, srv]);
    assert_eq!(s.sources.lookup(ip("198.51.100.7")), &[a]);
    assert!(s.sources.lookup(ip("10.0.0.1")).is_empty());
    assert_eq!(s.servers[0].options.destination, None);
}

#[test]
fn compile_dids_exact_and_ranges() {
    let t = format!(
        "[[connectivity]]\naccount_id = \"x\"\n{}{}",
        ip_server("s1", "127.0.0.4", "[connectivity.servers.DIDs.\"14155550100\"]\nforce_outbound = true\n"),
        ip_server("s2", "127.0.0.7", "[connectivity.servers.options]\ndid_ranges = [\"+14155550300-+14155550399\", \"+442079460000-+442079460099\"]\n"),
    );
    let s = ok(&t);
    assert!(s.dids.get("+14155550100").unwrap().force_outbound);
    assert_eq!(s.dids.get("+14155550300").unwrap().server, ServerId(1));
    assert_eq!(s.dids.get("+14155550399").unwrap().server, ServerId(1));
    assert_eq!(s.dids.get("+442079460050").unwrap().server, ServerId(1));
    assert!(s.dids.get("+14155550400").is_none());
    assert!(s.dids.get("+1415555030").is_none());
    assert!(s.dids.get("+14155550299").is_none());
    assert!(s.dids.get("4155550100").is_none());
    assert_eq!(
        s.servers[0].options.destination,
        Some("127.0.0.4:5060".parse().unwrap())
    );
}

#[test]
fn compile_digest_users_and_order() {
    let t = format!(
        "[proxy]\nrealm = \"Edge.Test\"\n\
         [[carriers]]\nname = \"heavy\"\nhostname = \"127.0.0.5\"\nweight = 20\n\
         [[carriers]]\nname = \"light\"\nhostname = \"127.0.0.6\"\nweight = 5\n\
         [[carriers]]\nname = \"reg\"\nhostname = \"127.0.0.8\"\nauth_mode = \"ACCEPT_REGISTER\"\nusername = \"carrier\"\npassword = \"pw\"\n\
         [[carriers]]\nname = \"light2\"\nhostname = \"127.0.0.9\"\nweight = 5\n\
         [[connectivity]]\naccount_id = \"x\"\n{}",
        pw_server("pbx", "pbx1", "ip = \"127.0.0.3\"\n")
    );
    let s = ok(&t);
    assert_eq!(
        s.outbound_order,
        vec![CarrierId(1), CarrierId(3), CarrierId(2), CarrierId(0)]
    );
    let realm = "edge.test".to_owned();
    assert_eq!(
        s.digest_users.get(&(realm.clone(), "pbx1".into())),
        Some(&DigestOwner::Server(ServerId(0)))
    );
    assert_eq!(
        s.digest_users.get(&(realm, "carrier".into())),
        Some(&DigestOwner::Carrier(CarrierId(2)))
    );
    // ACCEPT_REGISTER carriers and password servers are not in the source index.
    assert!(s.sources.lookup("127.0.0.8".parse().unwrap()).is_empty());
    assert!(s.sources.lookup("127.0.0.3".parse().unwrap()).is_empty());
    assert_eq!(s.servers[0].auth.ips.len(), 1);
    assert!(s.server_realms.is_empty());
}

#[test]
fn compile_options_defaults() {
    let s = ok(&with_options("ip = \"10.0.0.1\"\nport = 5090\n"));
    let o = &s.servers[0].options;
    assert_eq!(o.inbound_format, NumberFormat::Npan);
    assert!(o.enabled);
    assert_eq!(o.timeout, std::time::Duration::from_secs(180));
    assert_eq!(o.progress_timeout, None);
    // auth.ip wins over options.ip.
    assert_eq!(o.destination, Some("127.0.0.4:5060".parse().unwrap()));
    let c = ok("[[carriers]]\nname = \"c\"\nhostname = \"carrier.example\"\n");
    let c = &c.carriers[0];
    assert_eq!(
        (c.weight, c.keep_alive_interval.as_secs(), c.keep_alive_failures),
        (10, 360, 2)
    );
    assert_eq!(c.next_hop, None);
    assert_eq!(c.format, NumberFormat::E164);
}

#[test]
fn connectivity_dir_files() {
    let dir = std::env::temp_dir().join(format!("trunkgate-conn-{}", std::process::id()));
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let good = "account_id = \"beta\"\n[[servers]]\nname = \"b1\"\n[servers.auth]\nauth_method = \"ip\"\nip = \"10.1.1.1\"\n[servers.DIDs.\"+14155550700\"]\n";
    std::fs::write(dir.join("beta.toml"), good).unwrap();
    let bad = "account_id = \"gamma\"\n[[servers]]\nname = \"g1\"\n[servers.auth]\nauth_method = \"ip\"\nipp = \"10.1.1.2\"\n";
    std::fs::write(sub.join("gamma.toml"), bad).unwrap();
    std::fs::write(sub.join("ignored.txt"), "not toml").unwrap();
    let main = format!("[proxy]\nconnectivity_dir = \"{}\"\n", dir.display());
    let e = errs(&main);
    let gamma = sub.join("gamma.toml").display().to_string();
    let got: Vec<_> = e
        .iter()
        .map(|e| (e.file.as_str(), e.key.as_str(), e.line, e.col))
        .collect();
    let want = vec![
        (gamma.as_str(), "servers[0].auth.ip", 5, 15),
        (gamma.as_str(), "servers[0].auth.ipp", 6, 1),
    ];
    assert_eq!(got, want);
    std::fs::remove_file(sub.join("gamma.toml")).unwrap();
    let s = ok(&main);
    assert_eq!(s.accounts[0].connectivity_id, "beta");
    assert_eq!(s.dids.get("+14155550700").unwrap().server, ServerId(0));
    std::fs::remove_dir_all(&dir).unwrap();
    one(
        "[proxy]\nconnectivity_dir = \"/nonexistent/trunkgate\"\n",
        "proxy.connectivity_dir",
        2,
        20,
        "cannot read",
    );
}

#[test]
fn shipped_config_compiles() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trunkgate.toml");
    let s = load(&path, 7).unwrap();
    assert_eq!(s.generation, 7);
    assert_eq!(s.proxy.realm, "edge.test");
    assert_eq!(
        s.sources.lookup("127.0.0.2".parse().unwrap())[0].owner,
        SourceOwner::Carrier(CarrierId(0))
    );
    assert_eq!(
        s.sources.lookup("127.0.0.4".parse().unwrap())[0].owner,
        SourceOwner::Server(ServerId(0))
    );
    assert_eq!(s.dids.get("+14155550100").unwrap().server, ServerId(0));
    assert!(s.dids.get("+14155550199").is_none());
    assert_eq!(s.outbound_order[..2], [CarrierId(0), CarrierId(1)]);
    assert_eq!(s.admin.unwrap().listen.to_string(), "127.0.0.1:9060");
}
