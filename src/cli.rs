//! Command line: `run`, `check`, `route`, `import-kazoo` (SPEC §1).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
}

/// Runs a command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Run { config } => {
            let _ = config;
            eprintln!("run: not yet");
            1
        }
        Command::Check { config } => {
            let _ = config;
            eprintln!("check: not yet");
            1
        }
        Command::Route { .. } => {
            eprintln!("route: not yet");
            1
        }
    }
}
