//! The registrar (SPEC §4 "REGISTER from a password server"): bindings of authenticated servers
//! (and ACCEPT_REGISTER carriers), keyed by (realm, user) so they survive config reloads, with the
//! source address, transport and connection the REGISTER came from (NAT). Shared by every core
//! shard through `Services`; persisted by the runtime under `state_dir`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use super::ConnId;
use crate::config::Transport;

/// Most bindings one user may hold (oldest dropped beyond this).
pub const MAX_BINDINGS_PER_USER: usize = 8;

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The Contact URI (without `<>` and header params).
    pub contact: String,
    /// Unix seconds when it expires.
    pub expires_at: u64,
    /// Where the REGISTER came from: calls are sent here (NAT-safe).
    pub source: SocketAddr,
    #[serde(with = "transport_name")]
    pub transport: Transport,
    /// The stream connection it registered on (not persisted: gone after a restart).
    #[serde(skip)]
    pub conn: Option<ConnId>,
    pub call_id: String,
    pub cseq: u32,
}

/// Registration key: (realm lower-cased, user).
pub type Aor = (String, String);

/// Every live binding.
#[derive(Debug, Default)]
pub struct Registrations {
    map: DashMap<Aor, Vec<Binding>>,
    dirty: AtomicBool,
}

impl Registrations {
    /// The bindings of `aor` still live at `now_unix`.
    pub fn lookup(&self, aor: &Aor, now_unix: u64) -> Vec<Binding> {
        self.map.get(aor).map_or_else(Vec::new, |v| {
            v.iter().filter(|b| b.expires_at > now_unix).cloned().collect()
        })
    }

    /// The binding calls should use: the one refreshed last.
    pub fn best(&self, aor: &Aor, now_unix: u64) -> Option<Binding> {
        self.lookup(aor, now_unix)
            .into_iter()
            .max_by_key(|b| b.expires_at)
    }

    /// Adds or refreshes a binding (same Contact URI replaces); `expires == 0` removes it.
    pub fn upsert(&self, aor: Aor, binding: Binding, expires: u32, now_unix: u64) {
        let mut v = self.map.entry(aor).or_default();
        v.retain(|b| b.contact != binding.contact && b.expires_at > now_unix);
        if expires > 0 {
            v.push(binding);
            if v.len() > MAX_BINDINGS_PER_USER {
                v.sort_by_key(|b| std::cmp::Reverse(b.expires_at));
                v.truncate(MAX_BINDINGS_PER_USER);
            }
        }
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// `Contact: *` with `Expires: 0`: removes every binding of `aor`.
    pub fn remove_all(&self, aor: &Aor) {
        self.map.remove(aor);
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Whether a live binding was registered from exactly this source (SPEC §3 "registered
    /// server": OPTIONS and in-dialog traffic from it are known).
    pub fn is_source(&self, src: SocketAddr, now_unix: u64) -> bool {
        self.map.iter().any(|e| {
            e.value()
                .iter()
                .any(|b| b.source == src && b.expires_at > now_unix)
        })
    }

    /// Drops expired bindings.
    pub fn expire(&self, now_unix: u64) {
        let before = self.len();
        self.map.retain(|_, v| {
            v.retain(|b| b.expires_at > now_unix);
            !v.is_empty()
        });
        if self.len() != before {
            self.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Number of live bindings (all users).
    pub fn len(&self) -> usize {
        self.map.iter().map(|e| e.value().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once since the last call when something changed (the runtime persists then).
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::Relaxed)
    }

    /// Serialises every binding (JSON) for persistence.
    pub fn to_json(&self) -> String {
        let all: Vec<(Aor, Vec<Binding>)> = self
            .map
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        serde_json::to_string(&all).unwrap_or_else(|_| "[]".into())
    }

    /// Loads bindings persisted by `to_json` (expired ones are dropped).
    pub fn load_json(&self, json: &str, now_unix: u64) -> Result<usize, serde_json::Error> {
        let all: Vec<(Aor, Vec<Binding>)> = serde_json::from_str(json)?;
        let mut n = 0;
        for (aor, v) in all {
            let live: Vec<Binding> = v.into_iter().filter(|b| b.expires_at > now_unix).collect();
            n += live.len();
            if !live.is_empty() {
                self.map.insert(aor, live);
            }
        }
        Ok(n)
    }
}

mod transport_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::config::Transport;

    pub fn serialize<S: Serializer>(t: &Transport, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.via_name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Transport, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "TCP" => Transport::Tcp,
            "TLS" => Transport::Tls,
            _ => Transport::Udp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(contact: &str, expires_at: u64) -> Binding {
        Binding {
            contact: contact.into(),
            expires_at,
            source: "127.0.0.3:5060".parse().unwrap(),
            transport: Transport::Udp,
            conn: None,
            call_id: "c".into(),
            cseq: 1,
        }
    }

    #[test]
    fn upsert_refresh_remove_expire() {
        let r = Registrations::default();
        let aor = ("edge.test".to_string(), "pbx1".to_string());
        r.upsert(aor.clone(), binding("sip:pbx1@10.0.0.1", 200), 100, 100);
        r.upsert(aor.clone(), binding("sip:pbx1@10.0.0.1", 300), 200, 100);
        assert_eq!(r.lookup(&aor, 100).len(), 1);
        assert_eq!(r.best(&aor, 100).unwrap().expires_at, 300);
        assert!(r.is_source("127.0.0.3:5060".parse().unwrap(), 100));
        r.upsert(aor.clone(), binding("sip:pbx1@10.0.0.1", 0), 0, 100);
        assert!(r.lookup(&aor, 100).is_empty());
        r.upsert(aor.clone(), binding("sip:pbx1@10.0.0.2", 150), 50, 100);
        r.expire(151);
        assert!(r.is_empty());
    }

    #[test]
    fn persists_round_trip() {
        let r = Registrations::default();
        let aor = ("edge.test".to_string(), "pbx1".to_string());
        r.upsert(aor.clone(), binding("sip:pbx1@10.0.0.1", 500), 400, 100);
        assert!(r.take_dirty());
        let json = r.to_json();
        let back = Registrations::default();
        assert_eq!(back.load_json(&json, 100).unwrap(), 1);
        assert_eq!(back.lookup(&aor, 100), r.lookup(&aor, 100));
        assert_eq!(Registrations::default().load_json(&json, 600).unwrap(), 0);
    }
}
