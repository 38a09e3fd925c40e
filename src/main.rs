//! The `trunkgate` binary: parse the command line, run, map the result to an exit code.

use clap::Parser;

fn main() {
    let cli = trunkgate::cli::Cli::parse();
    std::process::exit(trunkgate::cli::run(cli));
}
