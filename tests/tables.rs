//! Cross-checks the syscall and errno tables against the kernel uapi headers
//! installed on the machine (Debian's linux-libc-dev), read at test time so
//! the tables are never compared with a copy of themselves.

use std::collections::{BTreeMap, HashSet};
use std::fs;

use systrace_tui::model::errno;
use systrace_tui::model::syscalls::{self, Arch, SyscallClass};

const X86_64_UNISTD: &[&str] = &[
    "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "/usr/include/asm/unistd_64.h",
];
const GENERIC_UNISTD: &[&str] = &["/usr/include/asm-generic/unistd.h"];
const ERRNO_HEADERS: &[&[&str]] = &[
    &["/usr/include/asm-generic/errno-base.h"],
    &["/usr/include/asm-generic/errno.h"],
];

/// Syscalls added after the headers these tests read (linux-libc-dev 6.1),
/// so absent from them; the tables take them from the kernel's syscall.tbl.
const NEWER_THAN_6_1: &[&str] = &[
    "uretprobe",
    "uprobe",
    "cachestat",
    "fchmodat2",
    "map_shadow_stack",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "statmount",
    "listmount",
    "lsm_get_self_attr",
    "lsm_set_self_attr",
    "lsm_list_modules",
    "mseal",
    "setxattrat",
    "getxattrat",
    "listxattrat",
    "removexattrat",
    "open_tree_attr",
    "file_getattr",
    "file_setattr",
    "listns",
];

/// Syscalls that really take no arguments (SYSCALL_DEFINE0).
const ARGLESS: &[&str] = &[
    "fork",
    "vfork",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getpgrp",
    "setsid",
    "sched_yield",
    "pause",
    "sync",
    "munlockall",
    "vhangup",
    "inotify_init",
    "rt_sigreturn",
    "restart_syscall",
    "uretprobe",
    "uprobe",
];

/// Reserved numbers never implemented in mainline: no prototype to describe.
const UNIMPLEMENTED: &[&str] = &[
    "getpmsg",
    "putpmsg",
    "afs_syscall",
    "tuxcall",
    "security",
    "vserver",
    "epoll_ctl_old",
    "epoll_wait_old",
];

fn read_header(candidates: &[&str]) -> String {
    for path in candidates {
        if let Ok(text) = fs::read_to_string(path) {
            return text;
        }
    }
    panic!(
        "kernel header not found (tried {candidates:?}); \
         install Debian package linux-libc-dev (apt-get install linux-libc-dev)"
    );
}

/// `#define NAME VALUE` lines, value being the first token after the name.
fn defines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix('#')?.trim_start();
        let mut words = rest.strip_prefix("define")?.split_whitespace();
        Some((words.next()?, words.next()?))
    })
}

fn parse_x86_64(text: &str) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    for (name, value) in defines(text) {
        if let (Some(n), Ok(nr)) = (name.strip_prefix("__NR_"), value.parse()) {
            assert!(out.insert(nr, n.to_string()).is_none(), "duplicate {nr}");
        }
    }
    out
}

/// What arm64's uapi `asm/unistd.h` defines before including the generic
/// header, plus the facts of a 64-bit native build (no __SYSCALL_COMPAT,
/// no __ARCH_WANT_TIME32_SYSCALLS, no __ARCH_NOMMU).
const ARM64_WANTS: &[&str] = &[
    "__ARCH_WANT_RENAMEAT",
    "__ARCH_WANT_NEW_STAT",
    "__ARCH_WANT_SET_GET_RLIMIT",
    "__ARCH_WANT_SYS_CLONE3",
    "__ARCH_WANT_MEMFD_SECRET",
];

/// Evaluates the generic header's conditionals the way an arm64 64-bit
/// build sees them and returns nr -> name.
///
/// Exclusions, by reason:
/// - `__NR_syscalls` is the table size and `__NR_arch_specific_syscall`
///   the start of a reserved range: markers, not syscalls.
/// - `__NR3264_*` are internal; the 64-bit names come from the aliases at
///   the end of the header (`#define __NR_fcntl __NR3264_fcntl`).
/// - Blocks for 32-bit or compat builds (time32 calls, `*64` names) are
///   evaluated as false, as on arm64.
fn parse_generic(text: &str) -> BTreeMap<u32, String> {
    let mut defined: HashSet<String> = ARM64_WANTS.iter().map(|s| s.to_string()).collect();
    let mut numbers: BTreeMap<String, u32> = BTreeMap::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    // One entry per open conditional: is its current branch taken?
    let mut stack: Vec<bool> = Vec::new();

    for line in text.lines() {
        let line = line.trim();
        let Some(directive) = line.strip_prefix('#').map(str::trim_start) else {
            continue;
        };
        let (word, rest) = directive
            .split_once(char::is_whitespace)
            .unwrap_or((directive, ""));
        let rest = rest.split("/*").next().unwrap().trim();
        match word {
            "ifdef" => stack.push(defined.contains(rest)),
            "ifndef" => stack.push(!defined.contains(rest)),
            "if" => stack.push(eval(rest, &defined)),
            "else" => {
                let top = stack.last_mut().expect("#else without #if");
                *top = !*top;
            }
            "endif" => {
                stack.pop().expect("#endif without #if");
            }
            "elif" => panic!("#elif not expected in unistd.h"),
            "define" if stack.iter().all(|&b| b) => {
                let mut parts = rest.split_whitespace();
                let name = parts.next().unwrap();
                defined.insert(name.split('(').next().unwrap().to_string());
                match parts.next() {
                    Some(v) if v.parse::<u32>().is_ok() => {
                        numbers.insert(name.to_string(), v.parse().unwrap());
                    }
                    Some(v) if v.starts_with("__NR") => {
                        aliases.push((name.to_string(), v.to_string()));
                    }
                    _ => {}
                }
            }
            "undef" if stack.iter().all(|&b| b) => {
                defined.remove(rest);
            }
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unbalanced conditionals");

    let mut out = BTreeMap::new();
    let mut add = |name: &str, nr: u32| {
        if let Some(n) = name.strip_prefix("__NR_") {
            if n == "syscalls" || n == "arch_specific_syscall" {
                return;
            }
            let prev = out.insert(nr, n.to_string());
            assert!(prev.is_none(), "{nr} defined as {prev:?} and {n}");
        }
    };
    for (name, &nr) in &numbers {
        add(name, nr);
    }
    for (name, target) in &aliases {
        add(name, numbers[target]);
    }
    out
}

/// A small evaluator for the `#if` expressions in unistd.h: `defined(X)`,
/// `defined X`, `__BITS_PER_LONG` compared with integers, `!`, `&&`, `||`
/// and parentheses. Unknown identifiers are 0, as in the C preprocessor.
fn eval(expr: &str, defined: &HashSet<String>) -> bool {
    let tokens = tokenize(expr);
    let mut pos = 0;
    let v = or_expr(&tokens, &mut pos, defined);
    assert_eq!(pos, tokens.len(), "trailing tokens in `{expr}`");
    v != 0
}

fn tokenize(expr: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_alphanumeric() || **c == '_') {
                word.push(c);
                chars.next();
            }
            tokens.push(word);
        } else {
            chars.next();
            let two = chars.peek().map(|&n| format!("{c}{n}"));
            match two.as_deref() {
                Some("&&" | "||" | "==" | "!=") => {
                    tokens.push(two.unwrap());
                    chars.next();
                }
                _ => tokens.push(c.to_string()),
            }
        }
    }
    tokens
}

fn or_expr(t: &[String], pos: &mut usize, d: &HashSet<String>) -> i64 {
    let mut v = and_expr(t, pos, d);
    while t.get(*pos).is_some_and(|s| s == "||") {
        *pos += 1;
        let r = and_expr(t, pos, d);
        v = i64::from(v != 0 || r != 0);
    }
    v
}

fn and_expr(t: &[String], pos: &mut usize, d: &HashSet<String>) -> i64 {
    let mut v = eq_expr(t, pos, d);
    while t.get(*pos).is_some_and(|s| s == "&&") {
        *pos += 1;
        let r = eq_expr(t, pos, d);
        v = i64::from(v != 0 && r != 0);
    }
    v
}

fn eq_expr(t: &[String], pos: &mut usize, d: &HashSet<String>) -> i64 {
    let v = unary(t, pos, d);
    match t.get(*pos).map(String::as_str) {
        Some("==") => {
            *pos += 1;
            i64::from(v == unary(t, pos, d))
        }
        Some("!=") => {
            *pos += 1;
            i64::from(v != unary(t, pos, d))
        }
        _ => v,
    }
}

fn unary(t: &[String], pos: &mut usize, d: &HashSet<String>) -> i64 {
    let tok = t
        .get(*pos)
        .expect("unexpected end of #if expression")
        .as_str();
    *pos += 1;
    match tok {
        "!" => i64::from(unary(t, pos, d) == 0),
        "(" => {
            let v = or_expr(t, pos, d);
            assert_eq!(t[*pos], ")");
            *pos += 1;
            v
        }
        "defined" => {
            let paren = t[*pos] == "(";
            if paren {
                *pos += 1;
            }
            let name = &t[*pos];
            *pos += 1;
            if paren {
                assert_eq!(t[*pos], ")");
                *pos += 1;
            }
            i64::from(d.contains(name))
        }
        "__BITS_PER_LONG" => 64,
        _ => tok.parse().unwrap_or(0),
    }
}

fn check_against_header(arch: Arch, header: &BTreeMap<u32, String>) {
    assert!(header.len() > 250, "suspiciously few syscalls parsed");
    for (&nr, name) in header {
        let got = syscalls::lookup(arch, nr)
            .unwrap_or_else(|| panic!("{}: {nr} ({name}) missing", arch.name()));
        assert_eq!(got.name, name, "{} {nr}", arch.name());
    }
    // Every table entry the header lacks must be a known newer syscall.
    for s in syscalls::table(arch) {
        if !header.contains_key(&s.nr) {
            assert!(
                NEWER_THAN_6_1.contains(&s.name),
                "{} {} ({}) is neither in the header nor a known newer syscall",
                arch.name(),
                s.nr,
                s.name
            );
        }
    }
}

#[test]
fn x86_64_matches_uapi_header() {
    let header = parse_x86_64(&read_header(X86_64_UNISTD));
    check_against_header(Arch::X86_64, &header);
}

#[test]
fn aarch64_matches_generic_uapi_header() {
    let header = parse_generic(&read_header(GENERIC_UNISTD));
    for (nr, name) in [
        (25, "fcntl"),
        (38, "renameat"),
        (79, "newfstatat"),
        (163, "getrlimit"),
    ] {
        assert_eq!(
            header.get(&nr).map(String::as_str),
            Some(name),
            "parser check"
        );
    }
    assert!(!header
        .values()
        .any(|n| n == "clock_gettime64" || n == "fcntl64"));
    check_against_header(Arch::Aarch64, &header);
}

#[test]
fn errno_matches_uapi_headers() {
    let mut numbers: BTreeMap<String, u32> = BTreeMap::new();
    let mut aliases = Vec::new();
    for candidates in ERRNO_HEADERS {
        let text = read_header(candidates);
        for (name, value) in defines(&text) {
            if !name.starts_with('E') {
                continue;
            }
            match value.parse() {
                Ok(n) => {
                    numbers.insert(name.to_string(), n);
                }
                Err(_) => aliases.push((name.to_string(), value.to_string())),
            }
        }
    }
    assert!(numbers.len() >= 131, "parsed only {} errnos", numbers.len());
    for (name, &n) in &numbers {
        assert_eq!(errno::name(n), Some(name.as_str()), "{n}");
        assert_eq!(errno::from_name(name), Some(n), "{name}");
        assert!(errno::description(n).is_some(), "{name}");
    }
    assert!(
        aliases.len() >= 2,
        "expected EWOULDBLOCK and EDEADLOCK aliases"
    );
    for (alias, target) in &aliases {
        let n = numbers[target];
        assert_eq!(errno::from_name(alias), Some(n), "{alias}");
        assert_eq!(
            errno::name(n),
            Some(target.as_str()),
            "{alias} is not canonical"
        );
    }
}

#[test]
fn x86_64_classes_and_signatures_cover_the_table() {
    let table = syscalls::table(Arch::X86_64);
    let classified = table
        .iter()
        .filter(|s| s.class != SyscallClass::Other)
        .count();
    assert!(
        classified * 100 >= table.len() * 95,
        "only {classified} of {} classified",
        table.len()
    );

    for s in table.iter().filter(|s| s.args.is_empty()) {
        assert!(
            ARGLESS.contains(&s.name) || UNIMPLEMENTED.contains(&s.name),
            "{} has no argument signature",
            s.name
        );
    }
    let described = table
        .iter()
        .filter(|s| !s.args.is_empty() || ARGLESS.contains(&s.name))
        .count();
    assert!(described >= 250, "only {described} syscalls described");
    assert!(
        table.len() >= 380,
        "x86_64 table has {} entries",
        table.len()
    );
    assert!(syscalls::table(Arch::Aarch64).len() >= 320);
}
