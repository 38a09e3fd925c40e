//! Compile tests: source index, DID index, digest users, outbound order, connectivity_dir, and
//! the shipped config.

use std::net::IpAddr;

use super::tests::{errs, ip_server, ok, one, pw_server, with_options};
use super::*;

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
