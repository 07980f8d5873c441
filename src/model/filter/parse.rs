//! Tokens to an expression, with names, numbers and regexes resolved once.

use regex::bytes::Regex;

use super::lex::{Op, Token};
use super::*;
use crate::model::errno;
use crate::model::syscalls::{self, SyscallClass};

pub(super) struct Parser {
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
}

pub(super) fn describe(t: &Tok) -> String {
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
    pub(super) fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(super) fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while self.peek().tok == Tok::Or {
            self.next();
            let (a, b) = cheap_first(e, self.and()?);
            e = Expr::Or(Box::new(a), Box::new(b));
        }
        Ok(e)
    }

    pub(super) fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while self.peek().tok == Tok::And {
            self.next();
            let (a, b) = cheap_first(e, self.unary()?);
            e = Expr::And(Box::new(a), Box::new(b));
        }
        Ok(e)
    }

    pub(super) fn unary(&mut self) -> Result<Expr, FilterError> {
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

    pub(super) fn value(&mut self) -> Result<(String, usize), FilterError> {
        let t = self.next();
        match t.tok {
            Tok::Word(w) | Tok::Str(w) => Ok((w, t.col)),
            other => err(
                t.col,
                format!("expected a value, found {}", describe(&other)),
            ),
        }
    }

    pub(super) fn comparison(
        &mut self,
        field: Field,
        fcol: usize,
        fname: &str,
    ) -> Result<Expr, FilterError> {
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

pub(super) fn compile(
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

pub(super) fn regex(v: &str, col: usize) -> Result<Regex, FilterError> {
    Regex::new(v).or_else(|e| err(col, format!("invalid regex: {}", regex_problem(&e))))
}

pub(super) fn parse_int(v: &str) -> Option<i128> {
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

pub(super) fn number(field: Field, v: &str, col: usize) -> Result<i128, FilterError> {
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
