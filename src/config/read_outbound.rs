//! `[carriers.outbound_parameters]`: how the INVITE towards a carrier is composed (seed 003).

use super::diagnose::Diag;
use super::schema::Tbl;
use super::snapshot::{OutboundParameter, OutboundValue};
use super::values;

/// The keys trunkgate can honour; `contact_*` only as DEFAULT.
const KEYS: &[&str] = &[
    "request_line_uri_user_part",
    "request_line_uri_host_part",
    "from_user_part",
    "from_display_name",
    "from_host_part",
    "to_user_part",
    "to_host_part",
    "p_asserted_identity_user_part",
    "p_asserted_identity_display_name",
    "p_asserted_identity_host_part",
    "remote_party_id_calling_party_user_part",
    "remote_party_id_calling_party_display_name",
    "remote_party_id_calling_party_host_part",
    "contact_user_part",
    "contact_host_part",
];

const VALUES: &[&str] = &[
    "DEFAULT",
    "CALLER_NUMBER",
    "CALLER_DISPLAY_NAME",
    "CALLED_NUMBER",
    "AUTH_ID",
    "USERNAME",
    "TRUNK_HOST_PORT",
    "PROXY_HOST",
    "CUSTOM",
    "NONE",
];

/// Reads every entry, in key order.
pub(crate) fn read_outbound(d: &mut Diag, carrier: &Tbl<'_, '_>) -> Vec<OutboundParameter> {
    let Some(t) = carrier.table(d, "outbound_parameters") else {
        return Vec::new();
    };
    t.check_keys(d, KEYS);
    let mut out = Vec::new();
    for key in KEYS {
        let Some(entry) = t.table(d, key) else { continue };
        if let Some(value) = read_entry(d, &entry, key) {
            out.push(OutboundParameter {
                key: (*key).to_owned(),
                value,
            });
        }
    }
    out
}

fn read_entry(d: &mut Diag, e: &Tbl<'_, '_>, key: &str) -> Option<OutboundValue> {
    e.check_keys(d, &["value", "custom_value"]);
    let raw = e.required_str(d, "value")?;
    let upper = raw.to_ascii_uppercase();
    let custom = e.str(d, "custom_value").unwrap_or("");
    let value = match upper.as_str() {
        "DEFAULT" => OutboundValue::Default,
        "CALLER_NUMBER" => OutboundValue::CallerNumber,
        "CALLER_DISPLAY_NAME" => OutboundValue::CallerDisplayName,
        "CALLED_NUMBER" => OutboundValue::CalledNumber,
        "AUTH_ID" => OutboundValue::AuthId,
        "USERNAME" => OutboundValue::Username,
        "TRUNK_HOST_PORT" => OutboundValue::TrunkHostPort,
        "PROXY_HOST" => OutboundValue::ProxyHost,
        "CUSTOM" => OutboundValue::Custom(custom.to_owned()),
        "NONE" => OutboundValue::None,
        _ => {
            let msg = format!("invalid value `{raw}`{}", super::diagnose::hint(raw, VALUES));
            d.error(&e.span_of("value"), &e.key("value"), msg);
            return None;
        }
    };
    check_entry(d, e, key, &value, custom)?;
    Some(value)
}

/// Rules of SPEC §2: NONE only on headers (not on user/host parts), contact_* only DEFAULT,
/// CUSTOM needs a header-safe custom_value; a host part takes only values that are hosts.
fn check_entry(d: &mut Diag, e: &Tbl<'_, '_>, key: &str, value: &OutboundValue, custom: &str) -> Option<()> {
    let at = e.span_of("value");
    if key.starts_with("contact_") && *value != OutboundValue::Default {
        d.error(
            &at,
            &e.key("value"),
            "contact_* keys accept only DEFAULT (a proxy does not own the Contact)",
        );
        return None;
    }
    let part = key.ends_with("_user_part") || key.ends_with("_host_part");
    let header = key.starts_with("p_asserted_identity") || key.starts_with("remote_party_id");
    if *value == OutboundValue::None && part && !header {
        d.error(&at, &e.key("value"), "NONE cannot drop a URI user or host part");
        return None;
    }
    if key.ends_with("_host_part") && !host_value(value, custom) {
        d.error(
            &at,
            &e.key("value"),
            "a host part takes DEFAULT, TRUNK_HOST_PORT, PROXY_HOST or CUSTOM with a host[:port]",
        );
        return None;
    }
    if matches!(value, OutboundValue::Custom(_)) {
        if custom.is_empty() {
            d.error(&at, &e.key("custom_value"), "CUSTOM needs a custom_value");
            return None;
        }
        if !values::is_header_safe(custom) {
            d.error(
                &e.span_of("custom_value"),
                &e.key("custom_value"),
                "must not contain CR or LF",
            );
            return None;
        }
    }
    Some(())
}

/// Whether a value can stand in a URI host part: a number or a name cannot, a custom value must
/// look like `host[:port]` (name, IPv4 or bracketed IPv6).
fn host_value(value: &OutboundValue, custom: &str) -> bool {
    match value {
        OutboundValue::Default
        | OutboundValue::None
        | OutboundValue::TrunkHostPort
        | OutboundValue::ProxyHost => true,
        OutboundValue::Custom(_) => {
            !custom.is_empty()
                && custom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        }
        _ => false,
    }
}
