//! `kubeseal`: parses the command line and hands over to [`commands`]. Every error
//! prints `error: <message>` on stderr and exits 1, as Go kubeseal does; a flag error
//! exits 2, as Go's flag parser does.

mod cli;
mod cluster;
mod commands;
mod io;
mod keys;
mod kubeconfig;
mod reseal;
mod sops;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Exit status of a command line that does not parse (Go's `flag.ExitOnError`).
const FLAG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            print!("{}", e.render());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first line already reads `error: …`; exit 2 like Go's pflag.
            let text = e.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(FLAG_ERROR);
        }
    };
    cli.flags.format_explicit = args.iter().any(|a| {
        let a = a.to_string_lossy();
        a == "-o" || a.starts_with("--format") || a.starts_with("-o")
    }) || std::env::var_os("SEALED_SECRETS_FORMAT").is_some();
    if cli.flags.version {
        println!("kubeseal version: v{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let result = match &cli.command {
        Some(cli::Command::Keygen(args)) => commands::keygen(args),
        Some(cli::Command::Reseal(args)) => match reseal::run(args) {
            Ok(code) => return ExitCode::from(code),
            Err(e) => Err(e),
        },
        // sops's own exit codes (51 MAC mismatch, 128 no key, …), not kubeseal's 1.
        Some(cli::Command::Sops(args)) => return sops::run(args),
        Some(cli::Command::Keys(args)) => keys::run(args),
        None => commands::run(&cli.flags),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
