use clap::Parser;

fn main() {
    let cli = systrace_tui::cli::Cli::parse();
    if let Some(expr) = &cli.filter {
        // Same exit code as clap's own usage errors.
        if let Err(e) = systrace_tui::model::filter::Filter::parse(expr) {
            eprintln!("systrace-tui: invalid --filter: {e}");
            std::process::exit(2);
        }
    }
    if let Err(e) = systrace_tui::run::run(cli) {
        let msg = format!("{e:#}");
        if msg.starts_with("systrace-tui") {
            eprintln!("{msg}");
        } else {
            eprintln!("systrace-tui: {msg}");
        }
        std::process::exit(1);
    }
}
