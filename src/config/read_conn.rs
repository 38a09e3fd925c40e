//! `[[connectivity]]` documents (seeds 000–002): account → servers → auth. Options and DIDs
//! are in `read_server`.

use std::ops::Range;

use super::compile::Builder;
use super::diagnose::Diag;
use super::read_carrier::read_nets;
use super::read_server::{read_dids, read_options};
use super::schema::Tbl;
use super::snapshot::*;
use super::values;

const KEYS: &[&str] = &["account_id", "id", "name", "account", "servers"];
const SERVER_KEYS: &[&str] = &["name", "auth", "options", "DIDs"];
const AUTH_KEYS: &[&str] = &["auth_method", "auth_user", "auth_password", "ip", "realm", "port"];

/// Reads one connectivity document; `stem` is the file stem in `connectivity_dir`.
pub(crate) fn read_connectivity(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>, stem: Option<&str>) {
    t.check_keys(d, KEYS);
    let account_id = t.required_str(d, "account_id").unwrap_or("").to_owned();
    let connectivity_id = t
        .opt_string(d, "id")
        .or_else(|| stem.map(str::to_owned))
        .unwrap_or_else(|| account_id.clone());
    let id = AccountId(b.accounts.len() as u32);
    let mut acc = Account {
        id,
        name: t.string(d, "name", &account_id),
        account_id,
        connectivity_id,
        trunks: 0,
        caller_id: None,
        emergency_caller_id: None,
        servers: Vec::new(),
    };
    if let Some(a) = t.table(d, "account") {
        a.check_keys(d, &["trunks", "caller_id", "emergency_caller_id"]);
        acc.trunks = a.u32(d, "trunks", 0..=u32::MAX, 0);
        acc.caller_id = read_caller_id(d, &a, "caller_id");
        acc.emergency_caller_id = read_caller_id(d, &a, "emergency_caller_id");
    }
    b.accounts.push(acc);
    for (i, s) in t.tables(d, "servers").iter().enumerate() {
        let sid = read_server(d, b, s, id, i);
        if let Some(a) = b.accounts.last_mut() {
            a.servers.push(sid);
        }
    }
}

fn read_server(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>, account: AccountId, index: usize) -> ServerId {
    t.check_keys(d, SERVER_KEYS);
    let id = ServerId(b.servers.len() as u32);
    let acc_name = b.accounts.last().map_or("", |a| a.account_id.as_str());
    let name = t
        .opt_string(d, "name")
        .unwrap_or_else(|| format!("{acc_name}-server{index}"));
    let auth = match t.table(d, "auth") {
        Some(a) => read_auth(d, b, &a, id),
        None => {
            if t.get("auth").is_none() {
                d.error(&t.span, &t.key("auth"), "missing required table");
            }
            empty_auth(&b.proxy.realm)
        }
    };
    let opts = t.table(d, "options");
    let options = read_options(d, b, opts.as_ref(), t, &auth);
    b.servers.push(Server {
        id,
        account,
        name,
        auth,
        options,
    });
    if let Some(o) = &opts {
        super::read_server::read_ranges(d, b, o, id);
    }
    if let Some(dids) = t.table(d, "DIDs") {
        read_dids(d, b, &dids, id);
    }
    id
}

fn empty_auth(realm: &str) -> ServerAuth {
    ServerAuth {
        method: AuthMethod::Password,
        user: None,
        password: None,
        ips: Vec::new(),
        realm: realm.into(),
        port: None,
    }
}

fn read_auth(d: &mut Diag, b: &mut Builder, t: &Tbl<'_, '_>, id: ServerId) -> ServerAuth {
    t.check_keys(d, AUTH_KEYS);
    let methods = [("password", AuthMethod::Password), ("ip", AuthMethod::Ip)];
    let method = t.choice(d, "auth_method", &methods, true, AuthMethod::Password);
    let realm = t.opt_string(d, "realm").unwrap_or_else(|| b.proxy.realm.clone());
    let port = t.port(d, "port", true, 0);
    let a = ServerAuth {
        method,
        user: t.opt_string(d, "auth_user"),
        password: t.opt_string(d, "auth_password"),
        ips: read_nets(d, t, "ip"),
        realm,
        port: (port != 0).then_some(port),
    };
    check_auth(d, t, &a);
    match method {
        AuthMethod::Ip => {
            for net in &a.ips {
                b.sources.insert(
                    *net,
                    SourceEntry {
                        owner: SourceOwner::Server(id),
                        port: a.port,
                    },
                );
            }
        }
        AuthMethod::Password => {
            if let Some(user) = &a.user {
                b.add_digest_user(
                    d,
                    &a.realm,
                    user,
                    DigestOwner::Server(id),
                    &t.span_of("auth_user"),
                    &t.key("auth_user"),
                );
            }
            b.note_realm(&a.realm);
        }
    }
    a
}

fn check_auth(d: &mut Diag, t: &Tbl<'_, '_>, a: &ServerAuth) {
    let at: Range<usize> = t.span_of("auth_method");
    match a.method {
        AuthMethod::Ip
            if a.ips.is_empty() && t.get("ip").is_none_or(|v| v.get_ref().as_str() == Some("")) =>
        {
            d.error(
                &at,
                &t.key("ip"),
                "IP auth needs `ip` (the server's source address)",
            );
        }
        AuthMethod::Password if a.user.is_none() || a.password.is_none() => {
            d.error(
                &at,
                &t.key("auth_user"),
                "password auth needs auth_user and auth_password",
            );
        }
        _ => {}
    }
    for (k, v) in [("auth_user", &a.user), ("auth_password", &a.password)] {
        if v.as_deref()
            .is_some_and(|s| !values::is_header_safe(s) || s.contains('"'))
        {
            d.error(&t.span_of(k), &t.key(k), "must not contain quotes or line breaks");
        }
    }
    if t.get("realm").is_some() && !values::is_token(&a.realm) {
        d.error(&t.span_of("realm"), &t.key("realm"), "must be a domain name");
    }
}

/// `{ cid_name, cid_number }` (each at most 35 characters, no line breaks).
pub(crate) fn read_caller_id(d: &mut Diag, parent: &Tbl<'_, '_>, k: &str) -> Option<CallerId> {
    let t = parent.table(d, k)?;
    t.check_keys(d, &["cid_name", "cid_number"]);
    let mut cid = CallerId::default();
    for (key, slot) in [
        ("cid_name", &mut cid.cid_name),
        ("cid_number", &mut cid.cid_number),
    ] {
        let Some(v) = t.opt_string(d, key) else { continue };
        if v.chars().count() > 35 || !values::is_header_safe(&v) {
            d.error(
                &t.span_of(key),
                &t.key(key),
                "at most 35 characters, no line breaks",
            );
        }
        *slot = Some(v);
    }
    Some(cid)
}
