//! Self-check: the converted document is run through the config loader (behind a neutral
//! `[proxy]`), so every value trunkgate would reject (an IP that is not one, a DID that does not
//! normalise, a caller ID over 35 characters, a DID claimed twice...) is reported now, under the
//! JSON path it came from, instead of at the operator's next `trunkgate check`.

use super::ImportError;
use crate::config;

/// Listens on a documentation address (RFC 5737) so a failover URI is never mistaken for a
/// loop here; the real `check` tests it against the real listen addresses.
const PROXY: &str = "[proxy]\nlisten = [\"udp:192.0.2.1:5060\"]\n\n";

/// Errors the loader finds in `text` (config layout), located by JSON path: `renames` maps a
/// TOML path inside the connectivity table to the JSON path it came from; other paths get
/// `base` (`data` for a wrapped document) in front.
pub(crate) fn verify(text: &str, renames: &[(String, String)], base: &str) -> Vec<ImportError> {
    let full = format!("{PROXY}{text}");
    match config::load_str("import", &full, 0) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .into_iter()
            .map(|e| ImportError {
                path: json_path(&e.key, renames, base),
                message: e.message,
            })
            .collect(),
    }
}

/// `connectivity[0].servers[1].auth.ip` → `servers[1].auth.ip` (with renames and `base`).
fn json_path(key: &str, renames: &[(String, String)], base: &str) -> String {
    let rel = match key.strip_prefix("connectivity[0]") {
        Some(r) => r.strip_prefix('.').unwrap_or(r),
        None => return key.to_owned(),
    };
    for (from, to) in renames {
        if let Some(rest) = rel.strip_prefix(from.as_str()) {
            if rest.is_empty() || rest.starts_with(['.', '[']) {
                return format!("{to}{rest}");
            }
        }
    }
    match (base.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!("{base}.{rel}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_back() {
        let renames = vec![(
            "servers[0].name".to_owned(),
            "data.servers[0].server_name".to_owned(),
        )];
        assert_eq!(
            json_path("connectivity[0].servers[1].auth.ip", &renames, ""),
            "servers[1].auth.ip"
        );
        assert_eq!(
            json_path("connectivity[0].servers[0].name", &renames, "data"),
            "data.servers[0].server_name"
        );
        assert_eq!(
            json_path("connectivity[0].servers[0].DIDs.\"+1\"", &[], "data"),
            "data.servers[0].DIDs.\"+1\""
        );
    }

    #[test]
    fn loader_errors_come_back() {
        let text = "[[connectivity]]\naccount_id = \"a\"\n[[connectivity.servers]]\n\
                    [connectivity.servers.auth]\nauth_method = \"ip\"\nip = \"not-an-ip\"\n";
        let errs = verify(text, &[], "");
        assert!(!errs.is_empty());
        assert!(
            errs.iter().all(|e| e.path.starts_with("servers[0].auth")),
            "{errs:?}"
        );
        assert!(verify("[[connectivity]]\naccount_id = \"a\"\n", &[], "").is_empty());
    }
}
