//! Command line: `run`, `check`, `route`, `import-kazoo` (SPEC §1).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::{self, Snapshot};

/// trunkgate: SIP edge proxy.
#[derive(Debug, Parser)]
#[command(name = "trunkgate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of SPEC §1.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the proxy in the foreground.
    Run {
        #[arg(long, env = "TRUNKGATE_CONFIG", default_value = "config/trunkgate.toml")]
        config: PathBuf,
    },
    /// Validate a config and print a summary.
    Check {
        #[arg(long, env = "TRUNKGATE_CONFIG", default_value = "config/trunkgate.toml")]
        config: PathBuf,
    },
    /// Dry run: who is calling and where the call would go.
    Route {
        #[arg(long, env = "TRUNKGATE_CONFIG", default_value = "config/trunkgate.toml")]
        config: PathBuf,
        /// Source IP[:PORT].
        #[arg(long)]
        from: String,
        /// Dialled / called number.
        #[arg(long)]
        to: String,
        /// Digest user the caller authenticated as.
        #[arg(long)]
        user: Option<String>,
    },
    /// Convert a Kazoo trunkstore connectivity document (JSON) into a TOML connectivity
    /// document on stdout.
    ImportKazoo {
        /// The body of GET /v2/accounts/{ACCOUNT_ID}/connectivity/{CONNECTIVITY_ID}, bare or
        /// wrapped in {"data": ...}.
        file: PathBuf,
        /// account_id to write (default: the document's pvt_account_id).
        #[arg(long)]
        account_id: Option<String>,
        /// Write the keys of the connectivity table at the top level (a file for
        /// [proxy].connectivity_dir) instead of a [[connectivity]] table to append to the config.
        #[arg(long)]
        as_dir_file: bool,
    },
}

/// Runs a command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Run { config } => crate::runtime::run(&config),
        Command::Check { config } => check(&config),
        Command::Route {
            config,
            from,
            to,
            user,
        } => route(&config, &from, &to, user.as_deref()),
        Command::ImportKazoo {
            file,
            account_id,
            as_dir_file,
        } => import_kazoo(&file, account_id.as_deref(), as_dir_file),
    }
}

/// `trunkgate import-kazoo`: the TOML on stdout and exit 0, or every field that cannot be
/// carried over on stderr (`FILE: JSON_PATH: message`) and exit 1.
fn import_kazoo(file: &Path, account_id: Option<&str>, as_dir_file: bool) -> i32 {
    let name = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: cannot read: {e}");
            return 1;
        }
    };
    let layout = if as_dir_file {
        crate::import::Layout::DirFile
    } else {
        crate::import::Layout::Config
    };
    match crate::import::kazoo_to_toml(&text, account_id, layout, &name) {
        Ok(toml) => {
            print!("{toml}");
            0
        }
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{name}: {e}");
            }
            eprintln!("{name}: {errors}");
            1
        }
    }
}

/// `trunkgate check`: summary on stdout and exit 0, or every error on stderr and exit 1.
fn check(path: &Path) -> i32 {
    match config::load_with_warnings(path, 0) {
        Ok((snap, warnings)) => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            print!("{}", summary(&snap));
            0
        }
        Err(errors) => {
            print_errors(&errors);
            1
        }
    }
}

fn print_errors(errors: &config::ConfigErrors) {
    for e in &errors.0 {
        eprintln!("{e}");
    }
    eprintln!("{errors}");
}

/// The `check` summary: one line per kind, with counts and names.
pub fn summary(snap: &Snapshot) -> String {
    let mut out = format!("{}: OK\n", snap.source.display());
    let accounts: Vec<&str> = snap.accounts.iter().map(|a| a.account_id.as_str()).collect();
    out.push_str(&line("accounts", &accounts));
    let servers: Vec<&str> = snap.servers.iter().map(|s| s.name.as_str()).collect();
    out.push_str(&line("servers", &servers));
    out.push_str(&format!(
        "DIDs: {} ({} ranges)\n",
        snap.dids.exact_len(),
        snap.dids.range_len()
    ));
    let carriers: Vec<&str> = snap.carriers.iter().map(|c| c.name.as_str()).collect();
    out.push_str(&line("carriers", &carriers));
    let listeners: Vec<String> = snap
        .proxy
        .listen
        .iter()
        .map(|l| format!("{}:{}", l.transport.via_name().to_ascii_lowercase(), l.addr))
        .collect();
    let listeners: Vec<&str> = listeners.iter().map(String::as_str).collect();
    out.push_str(&line("listeners", &listeners));
    out
}

/// `kind: N (a, b, c)`, the names cut after 20.
fn line(kind: &str, names: &[&str]) -> String {
    let shown: Vec<&str> = names.iter().take(20).copied().collect();
    let more = if names.len() > shown.len() {
        format!(", ... {} more", names.len() - shown.len())
    } else {
        String::new()
    };
    format!("{kind}: {} ({}{more})\n", names.len(), shown.join(", "))
}

/// `trunkgate route`: the dry run of `policy::route`.
fn route(path: &Path, from: &str, to: &str, user: Option<&str>) -> i32 {
    let Some(from) = parse_from(from) else {
        eprintln!("--from: expected IP[:PORT] (IPv6 as [::1]:5060), got `{from}`");
        return 2;
    };
    match config::load(path, 0) {
        Ok(snap) => {
            print!("{}", crate::policy::route::dry_run(&snap, from, to, user));
            0
        }
        Err(errors) => {
            print_errors(&errors);
            1
        }
    }
}

/// `IP`, `IP:PORT`, `[v6]`, `[v6]:PORT` or a bare IPv6 address; the port defaults to 5060.
pub fn parse_from(s: &str) -> Option<SocketAddr> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa);
    }
    let host = s.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(s);
    host.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 5060))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_forms() {
        assert_eq!(parse_from("127.0.0.2"), "127.0.0.2:5060".parse().ok());
        assert_eq!(parse_from("127.0.0.2:5070"), "127.0.0.2:5070".parse().ok());
        assert_eq!(parse_from("[::1]:5061"), "[::1]:5061".parse().ok());
        assert_eq!(parse_from("[::1]"), "[::1]:5060".parse().ok());
        assert_eq!(parse_from("::1"), "[::1]:5060".parse().ok());
        assert_eq!(parse_from("host:5060"), None);
        assert_eq!(parse_from("1.2.3.4:99999"), None);
    }

    #[test]
    fn summary_of_shipped_config() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trunkgate.toml");
        let snap = config::load(&path, 1).unwrap();
        let s = summary(&snap);
        assert!(s.contains("accounts: 1 (acme)"), "{s}");
        assert!(s.contains("servers: 2 (acme-server, acme-pbx)"), "{s}");
        assert!(
            s.contains("carriers: 3 (carrier-a, termination, failover)"),
            "{s}"
        );
        assert!(
            s.contains("listeners: 2 (udp:127.0.0.1:5060, tcp:127.0.0.1:5060)"),
            "{s}"
        );
    }
}
