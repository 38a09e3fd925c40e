//! Edits of the shipped layout that `Layout` does not cover: `[security]` numbers, keys of one
//! carrier, extra servers and carriers.

use super::net::Net;

/// The registering server's digest user and password (no static ip: calls go to its binding).
pub const REG_USER: &str = "reg1";
/// Its password.
pub const REG_PASSWORD: &str = "r3gpass";
/// Its DID (inbound_format npan → Request-URI user 4155550150).
pub const REG_DID: &str = "+14155550150";

/// `[security]` with these numbers instead of the shipped 10 / 60 / 300.
pub fn security(config: &str, failures: u32, window: u32, ban: u32) -> String {
    config
        .replacen("auth_failures = 10", &format!("auth_failures = {failures}"), 1)
        .replacen("auth_window = 60", &format!("auth_window = {window}"), 1)
        .replacen("ban_time = 300", &format!("ban_time = {ban}"), 1)
}

/// The carrier block named `name` with `lines` added at its end; a `keep_alive` line in
/// `lines` replaces the block's own.
pub fn carrier(config: &str, name: &str, lines: &str) -> String {
    let marker = format!("name = \"{name}\"\n");
    let start = config
        .find(&marker)
        .unwrap_or_else(|| panic!("no carrier {name}"));
    let end = config[start..]
        .find("\n\n")
        .map_or(config.len(), |e| start + e + 1);
    let mut block = config[start..end].to_string();
    if lines.contains("keep_alive =") {
        block = block.replace("keep_alive = false\n", "");
    }
    block.push_str(lines.trim_end());
    block.push('\n');
    format!("{}{block}{}", &config[..start], &config[end..])
}

/// A password server without `ip` (calls go to its REGISTER binding), npan format, `REG_DID`.
/// Goes in `Layout::extra` (it continues the acme account).
pub fn registering_server() -> String {
    format!(
        r#"
[[connectivity.servers]]
name = "acme-registered"

[connectivity.servers.auth]
auth_method = "password"
auth_user = "{REG_USER}"
auth_password = "{REG_PASSWORD}"

[connectivity.servers.options]
inbound_format = "npan"

[connectivity.servers.DIDs."{REG_DID}"]
"#
    )
}

/// An extra `[[carriers]]` entry at `127.0.N.host:5060` (append at the end of the config).
pub fn extra_carrier(net: &Net, name: &str, host: u8, lines: &str) -> String {
    format!(
        "\n[[carriers]]\nname = \"{name}\"\nhostname = \"{}\"\nport = 5060\n{lines}\n",
        net.ip(host)
    )
}
