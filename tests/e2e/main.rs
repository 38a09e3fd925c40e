//! End-to-end tests: `trunkgate run` as a child process, scripted user agents and SIPp on
//! loopback, one address block 127.0.N.0/24 per test so everything runs in parallel.

mod support;

mod auth;
mod calls;
mod carriers;
mod checks;
mod dns;
mod faults;
mod flood;
mod lifecycle;
mod ops;
mod outbound;
mod outparams;
mod registrar;
mod routing;
mod routing_callerid;
mod routing_failover;
mod routing_out;
mod scanners;
mod sipp;
mod tls;
