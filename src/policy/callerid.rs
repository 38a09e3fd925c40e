//! Caller ID on outbound calls (SPEC §4 "Towards carriers"): keep the caller's own DID, else the
//! configured caller ID, else leave it as it came.

use super::number::{normalise, strip_separators};
use super::CallFacts;
use crate::config::{CallerId, Server, Snapshot};

/// The caller ID chosen for a call, before each carrier's `format` is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cid {
    /// Display name of From and P-Asserted-Identity (`cid_name`).
    pub name: Option<String>,
    /// E.164 when it could be normalised, else as configured / as it came.
    pub number: String,
}

/// Picks the caller ID for a call from `server`, `None` meaning "leave From/PAI as they came".
///
/// 1. The caller's number is a DID of the server's account: kept (with that DID's `caller_id`
///    when set). Servers have no `inbound_parameters`, so the caller's number is the From user
///    (the `caller_num` default, `FROM_USER_PART`), with the From display name.
/// 2. Otherwise the server's `caller_id`, else the account's. For emergency numbers the
///    server's `emergency_caller_id`, else the account's, come first, then those.
pub(crate) fn choose(snap: &Snapshot, server: &Server, facts: &CallFacts, emergency: bool) -> Option<Cid> {
    let cc = &snap.proxy.default_country_code;
    let raw = strip_separators(facts.from_user);
    let caller = normalise(&raw, cc);
    if let Some(n) = &caller {
        if let Some(did) = snap
            .dids
            .get(n)
            .filter(|d| same_account(snap, server, d.server.0))
        {
            let kept = Cid {
                name: facts.from_display.map(str::to_owned),
                number: n.clone(),
            };
            return Some(did.caller_id.as_ref().map_or(kept, |c| from_config(c, n, cc)));
        }
    }
    let account = snap.accounts.get(server.account.0 as usize);
    let (acct_cid, acct_emergency) = match account {
        Some(a) => (a.caller_id.as_ref(), a.emergency_caller_id.as_ref()),
        None => (None, None),
    };
    let regular = [server.options.caller_id.as_ref(), acct_cid];
    let urgent = [server.options.emergency_caller_id.as_ref(), acct_emergency];
    let chain = emergency
        .then_some(urgent)
        .into_iter()
        .flatten()
        .chain(regular)
        .flatten();
    let fallback = caller.unwrap_or_else(|| raw.into_owned());
    chain
        .into_iter()
        .find(|c| c.cid_number.is_some() || c.cid_name.is_some())
        .map(|c| from_config(c, &fallback, cc))
}

fn same_account(snap: &Snapshot, server: &Server, did_server: u32) -> bool {
    snap.servers
        .get(did_server as usize)
        .is_some_and(|s| s.account == server.account)
}

/// A configured caller ID; a missing `cid_number` keeps `fallback` (the caller's number).
fn from_config(c: &CallerId, fallback: &str, cc: &str) -> Cid {
    let number = match &c.cid_number {
        Some(n) => normalise(n, cc).unwrap_or_else(|| n.clone()),
        None => fallback.to_owned(),
    };
    Cid {
        name: c.cid_name.clone(),
        number,
    }
}
