//! A tiny authoritative DNS server for tests (UDP, hand-encoded RFC 1035 messages): answers A
//! and SRV questions from a fixed table, NOERROR with no answer for other types of a known
//! name, NXDOMAIN for the rest. The table can be changed while it runs (a name that stops
//! resolving).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TYPE_A: u16 = 1;
const TYPE_SRV: u16 = 33;
const CLASS_IN: u16 = 1;

/// One record of the table.
#[derive(Debug, Clone)]
pub enum Record {
    A(Ipv4Addr),
    /// priority, weight, port, target.
    Srv(u16, u16, u16, String),
}

type Table = Arc<Mutex<Vec<(String, Record)>>>;

/// The server; stops on drop.
pub struct DnsServer {
    pub addr: SocketAddr,
    table: Table,
    stop: Arc<AtomicBool>,
}

impl DnsServer {
    /// Binds `addr` and serves `records` (names without the trailing dot) with TTL `ttl`.
    pub fn start(addr: SocketAddr, records: &[(&str, Record)], ttl: u32) -> DnsServer {
        let socket = UdpSocket::bind(addr).expect("bind dns server");
        socket.set_read_timeout(Some(Duration::from_millis(50))).ok();
        let table: Table = Arc::new(Mutex::new(
            records
                .iter()
                .map(|(n, r)| (n.to_ascii_lowercase(), r.clone()))
                .collect(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, s) = (table.clone(), stop.clone());
        std::thread::spawn(move || serve(&socket, &t, &s, ttl));
        DnsServer { addr, table, stop }
    }

    /// Replaces the table.
    pub fn set(&self, records: &[(&str, Record)]) {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        *t = records
            .iter()
            .map(|(n, r)| (n.to_ascii_lowercase(), r.clone()))
            .collect();
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(socket: &UdpSocket, table: &Table, stop: &AtomicBool, ttl: u32) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let records = table.lock().map(|t| t.clone()).unwrap_or_default();
        if let Some(resp) = answer(&buf[..n], &records, ttl) {
            let _ = socket.send_to(&resp, from);
        }
    }
}

/// The response to one query, `None` when it cannot be read.
fn answer(q: &[u8], records: &[(String, Record)], ttl: u32) -> Option<Vec<u8>> {
    let (name, end) = read_name(q, 12)?;
    let qtype = u16::from_be_bytes([*q.get(end)?, *q.get(end + 1)?]);
    let question = q.get(12..end + 4)?;
    let known = records.iter().any(|(n, _)| *n == name);
    let hits: Vec<&Record> = records
        .iter()
        .filter(|(n, r)| *n == name && record_type(r) == qtype)
        .map(|(_, r)| r)
        .collect();
    let rcode: u8 = if known { 0 } else { 3 };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(q.get(0..2)?);
    out.extend_from_slice(&[0x85, 0x80 | rcode]); // QR AA RD, RA
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(hits.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for r in hits {
        out.extend_from_slice(&[0xc0, 0x0c]); // the question's name
        out.extend_from_slice(&record_type(r).to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        let rdata = rdata(r);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}

fn record_type(r: &Record) -> u16 {
    match r {
        Record::A(_) => TYPE_A,
        Record::Srv(..) => TYPE_SRV,
    }
}

fn rdata(r: &Record) -> Vec<u8> {
    match r {
        Record::A(ip) => ip.octets().to_vec(),
        Record::Srv(prio, weight, port, target) => {
            let mut v = Vec::new();
            for n in [prio, weight, port] {
                v.extend_from_slice(&n.to_be_bytes());
            }
            for label in target.trim_end_matches('.').split('.') {
                v.push(label.len() as u8);
                v.extend_from_slice(label.as_bytes());
            }
            v.push(0);
            v
        }
    }
}

/// The (uncompressed) name at `at`, lower-cased without the final dot, and the offset after it.
fn read_name(q: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = *q.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        let label = q.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    Some((labels.join("."), at))
}
