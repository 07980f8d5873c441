//! What `--help`, the man page and the shell completions say beyond the
//! flags: examples, the filter language, the keys, the session format and
//! the exit codes. One text for all of them, generated from the clap
//! definition (`cli.rs`) and the key table (`ui/keys.rs`), so they cannot
//! drift apart.

use std::io::{self, Write};

use clap::builder::styling::Styles;
use clap_mangen::roff::{bold, italic, roman, Roff};

use crate::cli::Shell;
use crate::model::filter::Field;
use crate::model::syscalls::SyscallClass;

/// (what it does, the command): the README's usage lines.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("The TUI, every process on the machine", "sudo systrace-tui"),
    (
        "Only pods whose name matches (filtered in the kernel)",
        "sudo systrace-tui --pod 'checkout-.*'",
    ),
    (
        "Only failed opens under /etc, with a filter expression",
        "sudo systrace-tui --filter \"syscall == openat and errno != 0 and path ~ '^/etc/'\"",
    ),
    (
        "strace-like lines of one command for 2 seconds, then a summary",
        "sudo systrace-tui --no-tui --duration 2 --comm '^cat$'",
    ),
    (
        "Record while reproducing a problem (Ctrl-C stops)",
        "sudo systrace-tui --no-tui --quiet --comm '^nginx' -w nginx.jsonl.zst",
    ),
    (
        "Replay the recording in the TUI, on any machine, without root",
        "systrace-tui --replay nginx.jsonl.zst",
    ),
    (
        "Cut a smaller file out of a big one",
        "systrace-tui --no-tui -q --replay big.jsonl.zst --comm '^curl$' -w curl.jsonl",
    ),
    (
        "Headless, the session streamed into jq",
        "sudo systrace-tui --no-tui --duration 5 -w - | jq -c 'select(.type==\"syscall\")'",
    ),
];

/// (code, meaning). main.rs maps errors to these.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        0,
        "the run ended normally (also when the reader of standard output closed the pipe)",
    ),
    (
        1,
        "an error while running: no privileges, a failed load, a bad session file, a failed export",
    ),
    (
        2,
        "a mistake in the command line: a bad flag or value, an invalid --filter, \
         -p of a process that does not exist, no terminal for the TUI",
    ),
];

const FILTER_EXAMPLES: &[&str] = &[
    "pod == web-1 and class == file and errno != 0",
    "syscall in (openat, openat2) and path ~ '^/etc/'",
    "comm == nginx and duration > 1ms",
    "not (pid == 1 or uid == 0)",
];

const OPERATORS: &str = "== (or =), !=, <, <=, >, >=, ~ and !~ (regex), in (a, b), \
not in (a, b); and (&&), or (||), not (!), parentheses";

/// What a filter field holds: completions and the man page show it.
pub fn field_help(f: Field) -> &'static str {
    match f {
        Field::Pod => "pod name (Kubernetes or podman)",
        Field::Namespace => "Kubernetes namespace",
        Field::Container => "container name",
        Field::Comm => "command name",
        Field::Pid => "process (thread-group) id",
        Field::Tid => "thread id",
        Field::Uid => "user id",
        Field::Syscall => "syscall name, e.g. openat",
        Field::Class => "syscall class: file, network, process, ...",
        Field::Ret => "return value (may be negative or hex)",
        Field::Errno => "errno name (ENOENT) or number; 0 when the call did not fail",
        Field::Duration => "time in the call, with a unit: 800ns, 250us, 1ms, 2s",
        Field::Path => "the path argument",
        Field::Args => "the decoded argument list, as shown",
        Field::Node => "name of the cluster node (agent --node-name); none for this machine",
    }
}

fn field_names() -> String {
    Field::ALL.map(Field::name).join(", ")
}

/// `--help`'s text after the flags: examples, the filter language in
/// short, the exit codes.
pub fn long_help_tail() -> String {
    let h = Styles::default().get_header().to_owned();
    let mut s = format!("{h}Examples:{h:#}\n");
    for (what, cmd) in EXAMPLES {
        s += &format!("  {what}:\n      {cmd}\n");
    }
    s += &format!(
        "\n{h}Filter expressions{h:#} (--filter, and the TUI's f key):\n  \
         FIELD OP VALUE, joined with and, or, not and parentheses, e.g.\n      {}\n  \
         Fields: {}\n  Operators: {OPERATORS}\n",
        FILTER_EXAMPLES[0],
        field_names(),
    );
    s += &format!("\n{h}Exit status:{h:#}\n");
    for (code, what) in EXIT_CODES {
        s += &format!("  {code}  {what}\n");
    }
    s += "\nThe keys of the TUI: ? inside it, or man systrace-tui.";
    s
}

/// Text paragraphs: `.PP` between them.
fn para(r: &mut Roff, texts: &[&str]) {
    for t in texts {
        r.control("PP", []).text([roman(*t)]);
    }
}

/// Lines shown as typed, not filled.
fn verbatim(r: &mut Roff, lines: &[&str]) {
    r.control("RS", []).control("nf", []);
    for l in lines {
        r.text([roman(*l)]);
    }
    r.control("fi", []).control("RE", []);
}

/// The usual ways to call it; clap's synopsis would list every flag, and
/// the hidden commands as a bare "[command]".
fn synopsis(r: &mut Roff) {
    r.control("SH", ["SYNOPSIS"]);
    let lines: [&[&str]; 5] = [
        &["systrace-tui", " [OPTIONS]"],
        &["systrace-tui --replay", " FILE [OPTIONS]"],
        &["systrace-tui convert", " IN OUT [--force]"],
        &["systrace-tui completions", " bash|zsh|fish"],
        &["systrace-tui man", ""],
    ];
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            r.control("br", []);
        }
        r.text([bold(l[0]), roman(l[1])]);
    }
}

fn commands(r: &mut Roff) {
    r.control("SH", ["COMMANDS"]);
    para(
        r,
        &[
            "Without a command, systrace-tui traces (or replays, with --replay). \
             systrace-tui completions SHELL prints a completion script for bash, zsh or \
             fish (the filter's field names complete as --filter's value); systrace-tui \
             man prints this page. systrace-tui convert IN OUT turns a session file into \
             JSON Lines (OUT.jsonl, OUT.jsonl.zst) or the binary format (OUT.strc), \
             whatever IN is. scripts/install.sh of the source installs the binary, \
             both completions and this page where a distribution would.",
        ],
    );
}

fn extra_sections(r: &mut Roff) {
    r.control("SH", ["EXAMPLES"]);
    for (what, cmd) in EXAMPLES {
        r.control("PP", []).text([roman(format!("{what}:"))]);
        verbatim(r, &[cmd]);
    }

    r.control("SH", ["FILTER EXPRESSIONS"]);
    para(
        r,
        &[
            "--filter EXPR (capture: events that do not match are never stored) and the \
             TUI's f key (view: only what is shown changes) take the same language: \
             tests of the form FIELD OP VALUE, joined with and, or, not and parentheses.",
        ],
    );
    r.control("PP", []);
    verbatim(r, FILTER_EXAMPLES);
    r.control("PP", []).text([bold("Fields")]);
    for f in Field::ALL {
        r.control("TP", [])
            .text([bold(f.name())])
            .text([roman(field_help(f))]);
    }
    r.control("PP", []).text([
        roman("Classes: "),
        roman(SyscallClass::ALL.map(SyscallClass::name).join(", ")),
        roman("."),
    ]);
    r.control("PP", [])
        .text([bold("Operators: "), roman(OPERATORS), roman(".")]);
    para(
        r,
        &[
            "Values are bare words or quoted (\"a b\", '^/etc/'). A field without a value \
             for an event (no path, not in a container) fails every test except !=, !~ and \
             not in.",
            "For --filter, the pid, syscall, class and pod/namespace/container tests that \
             every match must pass are also applied in the kernel, so unwanted events cost \
             almost nothing. A mistake is reported in one line with its column (exit 2).",
        ],
    );

    r.control("SH", ["KEYS"]);
    para(
        r,
        &["In the TUI (? shows the same list; the mouse wheel scrolls, a click selects a row):"],
    );
    for (keys, what) in crate::consumer::tui::keys::help_rows() {
        r.control("TP", []).text([bold(keys)]).text([roman(what)]);
    }

    r.control("SH", ["SESSION FILES"]);
    para(
        r,
        &[
            "-w FILE (or w in the TUI) writes a session: JSON Lines, one object per line: a \
             header (format, version, host, kernel, arch, boot time, the filters recorded), \
             then syscall, container_add, container_del and lost lines in the order they \
             were captured, and last a lost line with \"final\": true (a file without it \
             was cut short). A name ending in .zst is written zstd-compressed; reading \
             recognises compression by its magic bytes.",
            "Files are created with mode 0600 (syscall data can hold secrets), never through \
             a symlink, and never over an existing file without --force (or a yes in the TUI).",
            "--replay FILE reads a session back into the same views and filters, without \
             root. A bad line stops the replay with FILE: line N: what is wrong (exit 1); \
             --skip-bad skips and counts such lines. The full format is described in \
             docs/session-format.md of the source.",
        ],
    );

    r.control("SH", ["OUTPUT"]);
    para(
        r,
        &[
            "With --no-tui, event lines go to standard output, in the order the calls \
             started; messages, the summary and --summary's table go to standard error. \
             A long replay or cut shows its progress on standard error when that is a \
             terminal and no event lines are printed there; never into a pipe or a file.",
        ],
    );

    r.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_CODES {
        r.control("TP", [])
            .text([bold(code.to_string())])
            .text([roman(*what)]);
    }

    r.control("SH", ["ENVIRONMENT"]);
    r.control("TP", []).text([bold("NO_COLOR")]).text([roman(
        "when set and not empty, no colors (in the TUI, and in --no-tui output with --color auto)",
    )]);

    r.control("SH", ["SEE ALSO"]);
    r.text([
        italic("strace"),
        roman("(1), "),
        italic("bpftrace"),
        roman("(8), "),
        italic("jq"),
        roman("(1)"),
    ]);
}

/// The man page, in roff.
pub fn write_man(w: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(crate::cli::command());
    man.render_title(w)?;
    man.render_name_section(w)?;
    let mut r = Roff::new();
    synopsis(&mut r);
    r.to_writer(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    let mut r = Roff::new();
    commands(&mut r);
    extra_sections(&mut r);
    r.to_writer(w)?;
    man.render_version_section(w)
}

/// The definition without the hidden commands: they are not offered, and
/// with any command at all clap's fish script wraps every completion in a
/// test that fails while an option's value is being typed, so
/// `--filter <Tab>` would offer file names instead of the fields.
fn completion_command() -> clap::Command {
    let full = crate::cli::command();
    let mut cmd = clap::Command::new("systrace-tui")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
    if let Some(a) = full.get_about() {
        cmd = cmd.about(a.clone());
    }
    cmd
}

/// A completion script for `shell`.
pub fn write_completions(shell: Shell, w: &mut dyn Write) -> io::Result<()> {
    let mut cmd = completion_command();
    let name = cmd.get_name().to_string();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    // Into memory first: the generator panics on a failed write.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    w.write_all(&buf)
}
