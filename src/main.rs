use clap::Parser;

fn main() {
    let cli = systrace_tui::cli::Cli::parse();
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
