//! The filter language, shared by `--filter` and the TUI's `f` prompt.
//!
//! ```text
//! expr  := and ( ("or" | "||") and )*
//! and   := unary ( ("and" | "&&") unary )*
//! unary := ("not" | "!") unary | "(" expr ")" | FIELD OP VALUE | FIELD ["not"] "in" "(" VALUE {"," VALUE} ")"
//! OP    := == | != | < | <= | > | >= | ~ | !~        (= is read as ==)
//! ```
//! Fields: pod namespace container comm pid tid uid syscall class ret errno
//! duration path args. Values are bare words (`openat`, `ENOENT`, `/etc/x`,
//! `1ms`) or quoted strings (`"a b"`, `'^/etc/'`). A field with no value for
//! an event (no path, no container, errno of a call that never returned)
//! fails every test except the negated ones (`!=`, `!~`, `not in`).
//! A call that did not fail has errno 0, so `errno != 0` selects failures.
//!
//! Parsing resolves names once (syscalls to number sets per architecture,
//! errno names to numbers, durations to nanoseconds, regexes compiled), so
//! evaluating an event is comparisons only, except `args`, which renders the
//! argument text first.

use std::collections::BTreeSet;
use std::fmt;

use regex::bytes::Regex;

use super::container::{ContainerInfo, ContainerMap};
use super::event::TraceEvent;
use super::syscalls::{self, Arch};

mod eval;
mod lex;
mod parse;
mod pushdown;

use eval::eval;
use lex::{lex, Op, Tok};
use parse::{describe, Parser};
pub use parse::{parse_duration, regex_problem};
use pushdown::push;
pub use pushdown::{ContainerPred, Pushdown};

/// Names of the container an event's cgroup belongs to, as far as known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerNames<'a> {
    pub container: Option<&'a str>,
    pub pod: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

/// What the filter needs to know beyond the event itself: the container
/// and pod of a cgroup. The topology resolver implements this; without one,
/// `NoContainers` says nothing is known.
pub trait FilterContext {
    fn container(&self, cgroup_id: u64) -> ContainerNames<'_>;
}

/// The context for a host without container information.
pub struct NoContainers;

impl FilterContext for NoContainers {
    fn container(&self, _cgroup_id: u64) -> ContainerNames<'_> {
        ContainerNames::default()
    }
}

impl<'a> ContainerNames<'a> {
    /// The names the filter sees for a container (None: a host process).
    pub fn of(c: Option<&'a ContainerInfo>) -> ContainerNames<'a> {
        match c {
            Some(c) => ContainerNames {
                container: Some(c.display_name()),
                pod: c.pod_name(),
                namespace: c.namespace(),
            },
            None => ContainerNames::default(),
        }
    }
}

impl FilterContext for ContainerMap {
    fn container(&self, cgroup_id: u64) -> ContainerNames<'_> {
        ContainerNames::of(self.get(cgroup_id).map(|c| c.as_ref()))
    }
}

/// A mistake in a filter, at a 1-based character column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        column,
        message: message.into(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Pod,
    Namespace,
    Container,
    Comm,
    Pid,
    Tid,
    Uid,
    Syscall,
    Class,
    Ret,
    Errno,
    Duration,
    Path,
    Args,
    /// The node an event came from (cluster mode); none for this machine.
    Node,
}

impl Field {
    pub const ALL: [Field; 15] = [
        Field::Pod,
        Field::Namespace,
        Field::Container,
        Field::Comm,
        Field::Pid,
        Field::Tid,
        Field::Uid,
        Field::Syscall,
        Field::Class,
        Field::Ret,
        Field::Errno,
        Field::Duration,
        Field::Path,
        Field::Args,
        Field::Node,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Pod => "pod",
            Field::Namespace => "namespace",
            Field::Container => "container",
            Field::Comm => "comm",
            Field::Pid => "pid",
            Field::Tid => "tid",
            Field::Uid => "uid",
            Field::Syscall => "syscall",
            Field::Class => "class",
            Field::Ret => "ret",
            Field::Errno => "errno",
            Field::Duration => "duration",
            Field::Path => "path",
            Field::Args => "args",
            Field::Node => "node",
        }
    }

    fn from_name(s: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
    }

    fn kind(self) -> Kind {
        match self {
            Field::Pid | Field::Tid | Field::Uid | Field::Ret | Field::Errno | Field::Duration => {
                Kind::Num
            }
            Field::Syscall | Field::Class => Kind::Nr,
            _ => Kind::Str,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Num,
    Str,
    Nr,
}

// ---------------------------------------------------------------- AST

/// Syscall numbers, one bitmap per architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NrSet {
    bits: [Vec<u64>; 2],
}

fn arch_idx(a: Arch) -> usize {
    match a {
        Arch::X86_64 => 0,
        Arch::Aarch64 => 1,
    }
}

impl NrSet {
    fn from_pred(pred: impl Fn(&syscalls::SyscallInfo) -> bool) -> NrSet {
        let mk = |arch: Arch| {
            let mut v = vec![0u64; syscalls::max_nr(arch) as usize / 64 + 1];
            for s in syscalls::table(arch).iter().filter(|s| pred(s)) {
                v[s.nr as usize / 64] |= 1 << (s.nr % 64);
            }
            v
        };
        NrSet {
            bits: [mk(Arch::X86_64), mk(Arch::Aarch64)],
        }
    }

    fn contains(&self, arch: Arch, nr: u32) -> bool {
        self.bits[arch_idx(arch)]
            .get(nr as usize / 64)
            .is_some_and(|w| w & (1 << (nr % 64)) != 0)
    }

    fn numbers(&self, arch: Arch) -> BTreeSet<u32> {
        syscalls::table(arch)
            .iter()
            .filter(|s| self.contains(arch, s.nr))
            .map(|s| s.nr)
            .collect()
    }
}

#[derive(Clone, Debug)]
enum Test {
    /// `field op value` on a number (ordering ops only; == and != use `NumIn`).
    NumCmp(Op, i128),
    NumIn(Vec<i128>),
    StrIn(Vec<Vec<u8>>),
    Regex(Regex),
    Nr(NrSet),
}

#[derive(Clone, Debug)]
struct Cmp {
    field: Field,
    test: Test,
    /// `!=`, `!~`, `not in`: true when the positive test is false or the
    /// field has no value.
    negate: bool,
}

#[derive(Clone, Debug)]
enum Expr {
    Cmp(Cmp),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed filter expression.
#[derive(Clone, Debug)]
pub struct Filter {
    expr: Expr,
    text: String,
}

/// Rough cost of evaluating `e` on one event, to test cheap operands of
/// `and` / `or` first (both are free of side effects, so the order does not
/// change the result): numbers and syscall sets are a load and a compare,
/// text needs the tail or the container map, `args` renders the arguments.
fn cost(e: &Expr) -> u32 {
    match e {
        Expr::Not(a) => cost(a),
        Expr::And(a, b) | Expr::Or(a, b) => cost(a) + cost(b),
        Expr::Cmp(c) => {
            let field = match c.field {
                Field::Args => 100,
                Field::Path | Field::Container | Field::Pod | Field::Namespace => 4,
                Field::Comm => 2,
                _ => 1,
            };
            let test = match c.test {
                Test::Regex(_) => 4,
                Test::StrIn(_) => 2,
                _ => 1,
            };
            field * test
        }
    }
}

fn cheap_first(a: Expr, b: Expr) -> (Expr, Expr) {
    if cost(&b) < cost(&a) {
        (b, a)
    } else {
        (a, b)
    }
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let toks = lex(text)?;
        let mut p = Parser { toks, pos: 0 };
        let expr = p.or()?;
        let t = p.peek();
        if t.tok != Tok::End {
            let hint = if t.tok == Tok::RParen {
                "unmatched `)`".to_string()
            } else {
                format!(
                    "expected `and`, `or` or the end, found {}",
                    describe(&t.tok)
                )
            };
            return err(t.col, hint);
        }
        Ok(Filter {
            expr,
            text: text.to_string(),
        })
    }

    /// The text the filter was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The fields the expression tests.
    pub fn fields(&self) -> Vec<Field> {
        fn walk(e: &Expr, out: &mut Vec<Field>) {
            match e {
                Expr::Cmp(c) => {
                    if !out.contains(&c.field) {
                        out.push(c.field);
                    }
                }
                Expr::Not(a) => walk(a, out),
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }

    pub fn matches(&self, ev: &TraceEvent, ctx: &dyn FilterContext) -> bool {
        eval(&self.expr, ev, ctx)
    }

    /// Rough cost of testing one event: 1 for a number, 100 and more when
    /// the argument text has to be rendered.
    pub fn cost(&self) -> u32 {
        cost(&self.expr)
    }

    /// The part of the filter the kernel can apply: a superset of what the
    /// whole expression selects, in the numbering of `arch`. Syscalls at or
    /// above `max_nr` (beyond the kernel's bitmap) disable the syscall set.
    pub fn pushdown(&self, arch: Arch, max_nr: u32) -> Pushdown {
        let mut p = push(&self.expr, arch);
        if p.syscalls
            .as_ref()
            .is_some_and(|s| s.iter().any(|&n| n >= max_nr))
        {
            p.syscalls = None;
        }
        p
    }
}

#[cfg(test)]
mod tests;
