//! An expression tested on one event: comparisons only (`args` renders
//! the argument text first).

use super::*;
use crate::model::args;

pub(super) fn eval(e: &Expr, ev: &TraceEvent, ctx: &dyn FilterContext) -> bool {
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

pub(super) fn num_value(f: Field, ev: &TraceEvent) -> Option<i128> {
    match f {
        Field::Pid => Some(ev.id.pid.into()),
        Field::Tid => Some(ev.id.tid.into()),
        Field::Uid => Some(ev.id.uid.into()),
        Field::Ret => ev.returns().then_some(ev.ret.into()),
        // Calls that never return did not fail either: errno 0.
        Field::Errno => Some(ev.errno().unwrap_or(0).into()),
        Field::Duration => ev.returns().then_some(ev.duration_ns().into()),
        _ => None,
    }
}

pub(super) fn str_value<'e>(
    f: Field,
    ev: &'e TraceEvent,
    ctx: &'e dyn FilterContext,
) -> Option<&'e [u8]> {
    match f {
        Field::Comm => Some(ev.comm_bytes()),
        Field::Path => ev.path(),
        Field::Container => ctx.container(ev.id.cgroup_id).container.map(str::as_bytes),
        Field::Pod => ctx.container(ev.id.cgroup_id).pod.map(str::as_bytes),
        Field::Namespace => ctx.container(ev.id.cgroup_id).namespace.map(str::as_bytes),
        _ => None,
    }
}

thread_local! {
    /// The rendered argument text of the event under test: one buffer per
    /// thread, reused, so `args` costs no allocation for the text itself.
    static ARGS_TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `test` on the text of field `f`; `None` when it has no value.
pub(super) fn with_str_value(
    f: Field,
    ev: &TraceEvent,
    ctx: &dyn FilterContext,
    test: impl FnOnce(&[u8]) -> bool,
) -> Option<bool> {
    if f == Field::Node {
        // The names live in one table (`model::node`), not in the event.
        return crate::model::node::name(ev.node).map(|n| test(n.as_bytes()));
    }
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
pub(super) fn test(c: &Cmp, ev: &TraceEvent, ctx: &dyn FilterContext) -> Option<bool> {
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
