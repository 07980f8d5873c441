use clap::Parser;

use systrace_tui::cli::{Cli, Command};
use systrace_tui::say;

fn main() {
    let cli = Cli::parse();
    if let Some(Command::Convert {
        input,
        output,
        force,
    }) = &cli.command
    {
        match systrace_tui::session::convert::convert(input, output, *force) {
            Ok(n) => {
                say!(
                    "systrace-tui: {n} events from {} written to {}",
                    input.display(),
                    output.display()
                );
                return;
            }
            Err(e) => {
                say!("systrace-tui: {e:#}");
                std::process::exit(1);
            }
        }
    }
    if let Some(Command::Agent(args)) = &cli.command {
        systrace_tui::verbose::set(args.verbose);
        let res = systrace_tui::pipeline::agent::Agent::from_args(args.clone())
            .and_then(systrace_tui::pipeline::agent::run);
        exit_on_error(res);
        return;
    }
    if let Some(cmd) = &cli.command {
        let mut out = std::io::stdout().lock();
        let (what, res) = match cmd {
            Command::Completions { shell } => (
                "the completion script",
                systrace_tui::manual::write_completions(*shell, &mut out),
            ),
            Command::Man => ("the man page", systrace_tui::manual::write_man(&mut out)),
            Command::Convert { .. } => unreachable!("handled above"),
            Command::Agent(_) => unreachable!("handled above"),
        };
        match res {
            // A reader that had enough (`| head`) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                say!("systrace-tui: writing {what}: {e}");
                std::process::exit(1);
            }
            _ => return,
        }
    }
    systrace_tui::verbose::set(cli.verbose);
    if let Some(expr) = &cli.filter {
        // Same exit code as clap's own usage errors.
        if let Err(e) = systrace_tui::model::filter::Filter::parse(expr) {
            say!("systrace-tui: invalid --filter: {e}");
            std::process::exit(2);
        }
    }
    let res =
        systrace_tui::pipeline::config::Config::from_cli(cli).and_then(systrace_tui::pipeline::run);
    exit_on_error(res);
}

/// The error and its causes joined by ": ", leaving out a cause whose text
/// the line already ends with (some libraries' errors repeat their source's:
/// "Connection refused (os error 111): Connection refused (os error 111)").
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if msg.is_empty() {
            msg = part;
        } else if !msg.ends_with(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
    }
    msg
}

/// One line on stderr and the exit code: 2 for usage mistakes, 1 otherwise.
fn exit_on_error(res: anyhow::Result<()>) {
    if let Err(e) = res {
        let msg = one_line(&e);
        if msg.starts_with("systrace-tui") {
            say!("{msg}");
        } else {
            say!("systrace-tui: {msg}");
        }
        let usage = e
            .downcast_ref::<systrace_tui::model::flow::Usage>()
            .is_some();
        std::process::exit(if usage { 2 } else { 1 });
    }
}
