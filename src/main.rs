use clap::Parser;

use systrace_tui::say;

fn main() {
    let cli = systrace_tui::cli::Cli::parse();
    if let Some(expr) = &cli.filter {
        // Same exit code as clap's own usage errors.
        if let Err(e) = systrace_tui::model::filter::Filter::parse(expr) {
            say!("systrace-tui: invalid --filter: {e}");
            std::process::exit(2);
        }
    }
    let res = systrace_tui::config::Config::from_cli(cli).and_then(systrace_tui::run::run);
    if let Err(e) = res {
        let msg = format!("{e:#}");
        if msg.starts_with("systrace-tui") {
            say!("{msg}");
        } else {
            say!("systrace-tui: {msg}");
        }
        let usage = e.downcast_ref::<systrace_tui::config::Usage>().is_some();
        std::process::exit(if usage { 2 } else { 1 });
    }
}
