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

use super::args;
use super::container::{ContainerInfo, ContainerMap};
use super::errno;
use super::event::TraceEvent;
use super::syscalls::{self, Arch, SyscallClass};

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
}

impl Field {
    pub const ALL: [Field; 14] = [
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

// ---------------------------------------------------------------- lexer

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "~",
            Op::NotMatch => "!~",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    col: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_./-:*+@$^[]{}?\\".contains(c)
}

fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let two = |a: char, b: char| c == a && chars.get(i + 1) == Some(&b);
        let (tok, len) = if c.is_whitespace() {
            i += 1;
            continue;
        } else if two('=', '=') {
            (Tok::Op(Op::Eq), 2)
        } else if two('!', '=') {
            (Tok::Op(Op::Ne), 2)
        } else if two('!', '~') {
            (Tok::Op(Op::NotMatch), 2)
        } else if two('<', '=') {
            (Tok::Op(Op::Le), 2)
        } else if two('>', '=') {
            (Tok::Op(Op::Ge), 2)
        } else if two('&', '&') {
            (Tok::And, 2)
        } else if two('|', '|') {
            (Tok::Or, 2)
        } else if c == '=' {
            (Tok::Op(Op::Eq), 1)
        } else if c == '<' {
            (Tok::Op(Op::Lt), 1)
        } else if c == '>' {
            (Tok::Op(Op::Gt), 1)
        } else if c == '~' {
            (Tok::Op(Op::Match), 1)
        } else if c == '!' {
            (Tok::Not, 1)
        } else if c == '(' {
            (Tok::LParen, 1)
        } else if c == ')' {
            (Tok::RParen, 1)
        } else if c == ',' {
            (Tok::Comma, 1)
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return err(col, "unterminated string: add the closing quote"),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        // \" and \\ are unescaped; other escapes stay for the regex.
                        match chars.get(j + 1) {
                            Some(&n) if n == c || n == '\\' => {
                                s.push(n);
                                j += 2;
                            }
                            _ => {
                                s.push('\\');
                                j += 1;
                            }
                        }
                    }
                    Some(&o) => {
                        s.push(o);
                        j += 1;
                    }
                }
            }
            (Tok::Str(s), j + 1 - i)
        } else if is_word_char(c) {
            let mut j = i;
            while j < chars.len() && is_word_char(chars[j]) {
                j += 1;
            }
            let w: String = chars[i..j].iter().collect();
            let tok = match w.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Word(w),
            };
            (tok, j - i)
        } else {
            return err(col, format!("unexpected character `{c}`"));
        };
        out.push(Token { tok, col });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        col: chars.len() + 1,
    });
    Ok(out)
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

// ---------------------------------------------------------------- parser

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Op(o) => format!("`{}`", o.text()),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::End => "the end".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while self.peek().tok == Tok::Or {
            self.next();
            let (a, b) = cheap_first(e, self.and()?);
            e = Expr::Or(Box::new(a), Box::new(b));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while self.peek().tok == Tok::And {
            self.next();
            let (a, b) = cheap_first(e, self.unary()?);
            e = Expr::And(Box::new(a), Box::new(b));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let t = self.next();
        match t.tok {
            Tok::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            Tok::LParen => {
                let e = self.or()?;
                let close = self.next();
                if close.tok != Tok::RParen {
                    return err(
                        close.col,
                        format!("expected `)` to close the `(` at column {}", t.col),
                    );
                }
                Ok(e)
            }
            Tok::Word(w) => match Field::from_name(&w) {
                Some(f) => self.comparison(f, t.col, &w),
                None => err(
                    t.col,
                    format!(
                        "unknown field `{w}` (fields: {})",
                        Field::ALL.map(Field::name).join(", ")
                    ),
                ),
            },
            Tok::End => err(t.col, "expected a condition such as `syscall == openat`"),
            other => err(
                t.col,
                format!("expected a field name, found {}", describe(&other)),
            ),
        }
    }

    fn value(&mut self) -> Result<(String, usize), FilterError> {
        let t = self.next();
        match t.tok {
            Tok::Word(w) | Tok::Str(w) => Ok((w, t.col)),
            other => err(
                t.col,
                format!("expected a value, found {}", describe(&other)),
            ),
        }
    }

    fn comparison(&mut self, field: Field, fcol: usize, fname: &str) -> Result<Expr, FilterError> {
        let t = self.next();
        let (op, list, negate) = match t.tok {
            Tok::Op(op) => (Some(op), false, matches!(op, Op::Ne | Op::NotMatch)),
            Tok::Word(ref w) if w.eq_ignore_ascii_case("in") => (None, true, false),
            Tok::Not => {
                let n = self.next();
                match n.tok {
                    Tok::Word(ref w) if w.eq_ignore_ascii_case("in") => (None, true, true),
                    _ => return err(n.col, "expected `in` after `not`"),
                }
            }
            other => {
                return err(
                    t.col,
                    format!(
                        "expected an operator (== != < <= > >= ~ !~ in) after `{fname}`, found {}",
                        describe(&other)
                    ),
                )
            }
        };
        let _ = fcol;
        let mut vals = Vec::new();
        if list {
            let open = self.next();
            if open.tok != Tok::LParen {
                return err(open.col, "expected `(` after `in`");
            }
            loop {
                vals.push(self.value()?);
                let sep = self.next();
                match sep.tok {
                    Tok::Comma => {}
                    Tok::RParen => break,
                    _ => return err(sep.col, "expected `,` or `)` in the list"),
                }
            }
        } else {
            vals.push(self.value()?);
        }
        let test = compile(field, op, &vals, t.col)?;
        Ok(Expr::Cmp(Cmp {
            field,
            test,
            negate,
        }))
    }
}

fn compile(
    field: Field,
    op: Option<Op>,
    vals: &[(String, usize)],
    op_col: usize,
) -> Result<Test, FilterError> {
    let regex_op = matches!(op, Some(Op::Match | Op::NotMatch));
    let order_op = matches!(op, Some(Op::Lt | Op::Le | Op::Gt | Op::Ge));
    match field.kind() {
        Kind::Num => {
            if regex_op {
                return err(
                    op_col,
                    format!("`{}` is a number: use == != < <= > >= or in", field.name()),
                );
            }
            let nums = vals
                .iter()
                .map(|(v, c)| number(field, v, *c))
                .collect::<Result<Vec<_>, _>>()?;
            match op {
                Some(o) if order_op => Ok(Test::NumCmp(o, nums[0])),
                _ => Ok(Test::NumIn(nums)),
            }
        }
        Kind::Str | Kind::Nr if order_op => err(
            op_col,
            format!("`{}` is text: use == != ~ !~ or in", field.name()),
        ),
        Kind::Str => {
            if regex_op {
                let (v, c) = &vals[0];
                return Ok(Test::Regex(regex(v, *c)?));
            }
            Ok(Test::StrIn(
                vals.iter().map(|(v, _)| v.as_bytes().to_vec()).collect(),
            ))
        }
        Kind::Nr => {
            if regex_op {
                let (v, c) = &vals[0];
                let re = regex(v, *c)?;
                let set = match field {
                    Field::Class => NrSet::from_pred(|s| re.is_match(s.class.name().as_bytes())),
                    _ => NrSet::from_pred(|s| re.is_match(s.name.as_bytes())),
                };
                return Ok(Test::Nr(set));
            }
            let mut names = Vec::new();
            for (v, c) in vals {
                if field == Field::Class {
                    match SyscallClass::from_name(v) {
                        Some(k) => names.push(k.name().to_string()),
                        None => {
                            return err(
                                *c,
                                format!(
                                    "unknown class `{v}` (classes: {})",
                                    SyscallClass::ALL.map(SyscallClass::name).join(", ")
                                ),
                            )
                        }
                    }
                } else {
                    let known = Arch::ALL.iter().any(|&a| syscalls::by_name(a, v).is_some());
                    if !known {
                        return err(*c, format!("unknown syscall `{v}`"));
                    }
                    names.push(v.clone());
                }
            }
            let set = if field == Field::Class {
                NrSet::from_pred(|s| names.iter().any(|n| n == s.class.name()))
            } else {
                NrSet::from_pred(|s| names.iter().any(|n| n == s.name))
            };
            Ok(Test::Nr(set))
        }
    }
}

/// What is wrong with a regex, in one line: the regex crate's message
/// spans lines (the pattern, a caret), and its last line says what.
pub fn regex_problem(e: &regex::Error) -> String {
    let msg = e.to_string();
    let last = msg.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

fn regex(v: &str, col: usize) -> Result<Regex, FilterError> {
    Regex::new(v).or_else(|e| err(col, format!("invalid regex: {}", regex_problem(&e))))
}

fn parse_int(v: &str) -> Option<i128> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let n = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(h) => i128::from_str_radix(h, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    Some(if neg { -n } else { n })
}

/// `1ms`, `250us`, `2s`, `1.5ms`, `800ns`, `1m` -> nanoseconds.
pub fn parse_duration(v: &str) -> Option<u64> {
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return None,
    };
    let ns = n * mult;
    (ns.is_finite() && ns >= 0.0 && ns < u64::MAX as f64).then_some(ns.round() as u64)
}

fn number(field: Field, v: &str, col: usize) -> Result<i128, FilterError> {
    match field {
        Field::Duration => match parse_duration(v) {
            Some(ns) => Ok(ns as i128),
            None if parse_int(v).is_some() => {
                err(col, "a duration needs a unit: ns, us, ms, s (e.g. 1ms)")
            }
            None => err(
                col,
                format!("`{v}` is not a duration such as 250us, 1ms or 2s"),
            ),
        },
        Field::Errno => match parse_int(v) {
            Some(n) if n >= 0 => Ok(n),
            Some(_) => err(col, "errno is a positive number or a name such as ENOENT"),
            None => errno::from_name(v)
                .map(i128::from)
                .ok_or_else(|| FilterError {
                    column: col,
                    message: format!("unknown errno `{v}` (e.g. ENOENT, EACCES)"),
                }),
        },
        Field::Ret => parse_int(v).ok_or_else(|| FilterError {
            column: col,
            message: format!("`{v}` is not a number"),
        }),
        _ => match parse_int(v) {
            Some(n) if (0..=u32::MAX as i128).contains(&n) => Ok(n),
            _ => err(col, format!("`{v}` is not a valid {}", field.name())),
        },
    }
}

// ---------------------------------------------------------------- evaluation

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

fn eval(e: &Expr, ev: &TraceEvent, ctx: &dyn FilterContext) -> bool {
    match e {
        Expr::And(a, b) => eval(a, ev, ctx) && eval(b, ev, ctx),
        Expr::Or(a, b) => eval(a, ev, ctx) || eval(b, ev, ctx),
        Expr::Not(a) => !eval(a, ev, ctx),
        Expr::Cmp(c) => {
            let hit = test(c, ev, ctx).unwrap_or(false);
            hit != c.negate
        }
    }
}

fn num_value(f: Field, ev: &TraceEvent) -> Option<i128> {
    match f {
        Field::Pid => Some(ev.pid.into()),
        Field::Tid => Some(ev.tid.into()),
        Field::Uid => Some(ev.uid.into()),
        Field::Ret => ev.returns().then_some(ev.ret.into()),
        // Calls that never return did not fail either: errno 0.
        Field::Errno => Some(ev.errno().unwrap_or(0).into()),
        Field::Duration => ev.returns().then_some(ev.duration_ns().into()),
        _ => None,
    }
}

fn str_value<'e>(f: Field, ev: &'e TraceEvent, ctx: &'e dyn FilterContext) -> Option<&'e [u8]> {
    match f {
        Field::Comm => Some(ev.comm_bytes()),
        Field::Path => ev.path(),
        Field::Container => ctx.container(ev.cgroup_id).container.map(str::as_bytes),
        Field::Pod => ctx.container(ev.cgroup_id).pod.map(str::as_bytes),
        Field::Namespace => ctx.container(ev.cgroup_id).namespace.map(str::as_bytes),
        _ => None,
    }
}

thread_local! {
    /// The rendered argument text of the event under test: one buffer per
    /// thread, reused, so `args` costs no allocation for the text itself.
    static ARGS_TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `test` on the text of field `f`; `None` when it has no value.
fn with_str_value(
    f: Field,
    ev: &TraceEvent,
    ctx: &dyn FilterContext,
    test: impl FnOnce(&[u8]) -> bool,
) -> Option<bool> {
    if f != Field::Args {
        return str_value(f, ev, ctx).map(test);
    }
    // A known call without arguments (getpid, sched_yield, ...) has no text.
    if ev.syscall().is_some_and(|s| s.args.is_empty()) {
        return Some(test(b""));
    }
    ARGS_TEXT.with(|buf| {
        // A filter is never evaluated from inside another, so the buffer is
        // free; fall back to a fresh one rather than panic if it were not.
        match buf.try_borrow_mut() {
            Ok(mut text) => {
                text.clear();
                args::format_args(ev, &mut text);
                Some(test(text.as_bytes()))
            }
            Err(_) => {
                let mut text = String::new();
                args::format_args(ev, &mut text);
                Some(test(text.as_bytes()))
            }
        }
    })
}

/// The positive test; `None` when the field has no value for this event.
fn test(c: &Cmp, ev: &TraceEvent, ctx: &dyn FilterContext) -> Option<bool> {
    Some(match &c.test {
        Test::Nr(set) => set.contains(ev.arch, ev.nr),
        Test::NumCmp(op, v) => {
            let x = num_value(c.field, ev)?;
            match op {
                Op::Lt => x < *v,
                Op::Le => x <= *v,
                Op::Gt => x > *v,
                Op::Ge => x >= *v,
                _ => unreachable!("only ordering ops are compiled to NumCmp"),
            }
        }
        Test::NumIn(vs) => {
            let x = num_value(c.field, ev)?;
            vs.contains(&x)
        }
        Test::StrIn(vs) => with_str_value(c.field, ev, ctx, |x| vs.iter().any(|v| **v == *x))?,
        Test::Regex(re) => with_str_value(c.field, ev, ctx, |x| re.is_match(x))?,
    })
}

// ---------------------------------------------------------------- push-down

/// Sets the kernel can filter on; `None` means "no constraint".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pushdown {
    pub pids: Option<BTreeSet<u32>>,
    pub syscalls: Option<BTreeSet<u32>>,
    /// Tests on pod / namespace / container names: the topology turns them
    /// into the kernel's set of cgroup ids.
    pub containers: Option<ContainerPred>,
}

/// The part of a filter that depends only on an event's container names.
/// Built from positive tests joined by `and` / `or`, so it selects a
/// superset of what the whole filter selects.
#[derive(Clone, Debug)]
pub struct ContainerPred(Expr);

impl ContainerPred {
    pub fn matches(&self, names: &ContainerNames) -> bool {
        fn eval(e: &Expr, n: &ContainerNames) -> bool {
            match e {
                Expr::And(a, b) => eval(a, n) && eval(b, n),
                Expr::Or(a, b) => eval(a, n) || eval(b, n),
                Expr::Cmp(c) => {
                    let v = match c.field {
                        Field::Pod => n.pod,
                        Field::Namespace => n.namespace,
                        Field::Container => n.container,
                        _ => return true,
                    };
                    let Some(v) = v.map(str::as_bytes) else {
                        return false;
                    };
                    match &c.test {
                        Test::StrIn(vs) => vs.iter().any(|x| x[..] == *v),
                        Test::Regex(re) => re.is_match(v),
                        _ => true,
                    }
                }
                // Never built (see `push`); keeping the event is always safe.
                Expr::Not(_) => true,
            }
        }
        eval(&self.0, names)
    }
}

/// Two predicates are equal when they print the same (regexes have no
/// equality of their own; their source text is what matters here).
impl PartialEq for ContainerPred {
    fn eq(&self, other: &Self) -> bool {
        format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

impl Eq for ContainerPred {}

fn join(a: ContainerPred, b: ContainerPred, op: fn(Box<Expr>, Box<Expr>) -> Expr) -> ContainerPred {
    ContainerPred(op(Box::new(a.0), Box::new(b.0)))
}

fn intersect(a: Option<BTreeSet<u32>>, b: Option<BTreeSet<u32>>) -> Option<BTreeSet<u32>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
        (a, None) => a,
        (None, b) => b,
    }
}

fn union(a: Option<BTreeSet<u32>>, b: Option<BTreeSet<u32>>) -> Option<BTreeSet<u32>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

/// Over-approximates `e` by per-dimension sets: an event `e` selects always
/// has its pid and syscall in the sets returned (that is what makes the
/// kernel's conjunction of set tests a safe pre-filter).
fn push(e: &Expr, arch: Arch) -> Pushdown {
    match e {
        Expr::And(a, b) => {
            let (a, b) = (push(a, arch), push(b, arch));
            // Either side alone already bounds an `and`.
            let containers = match (a.containers, b.containers) {
                (Some(x), Some(y)) => Some(join(x, y, Expr::And)),
                (x, y) => x.or(y),
            };
            Pushdown {
                pids: intersect(a.pids, b.pids),
                syscalls: intersect(a.syscalls, b.syscalls),
                containers,
            }
        }
        Expr::Or(a, b) => {
            let (a, b) = (push(a, arch), push(b, arch));
            Pushdown {
                pids: union(a.pids, b.pids),
                syscalls: union(a.syscalls, b.syscalls),
                // An `or` is bounded only when both sides are.
                containers: match (a.containers, b.containers) {
                    (Some(x), Some(y)) => Some(join(x, y, Expr::Or)),
                    _ => None,
                },
            }
        }
        Expr::Not(_) => Pushdown::default(),
        Expr::Cmp(c) if c.negate => Pushdown::default(),
        Expr::Cmp(c) => match (&c.test, c.field) {
            (Test::NumIn(vs), Field::Pid) => Pushdown {
                pids: Some(vs.iter().filter_map(|&v| u32::try_from(v).ok()).collect()),
                ..Default::default()
            },
            (Test::Nr(set), _) => Pushdown {
                syscalls: Some(set.numbers(arch)),
                ..Default::default()
            },
            (Test::StrIn(_) | Test::Regex(_), Field::Pod | Field::Namespace | Field::Container) => {
                Pushdown {
                    containers: Some(ContainerPred(Expr::Cmp(c.clone()))),
                    ..Default::default()
                }
            }
            _ => Pushdown::default(),
        },
    }
}

#[cfg(test)]
mod tests;
