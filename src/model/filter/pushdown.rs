//! The part of an expression the kernel can apply: per-dimension sets
//! that over-approximate it.

use std::collections::BTreeSet;

use super::*;

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

pub(super) fn join(
    a: ContainerPred,
    b: ContainerPred,
    op: fn(Box<Expr>, Box<Expr>) -> Expr,
) -> ContainerPred {
    ContainerPred(op(Box::new(a.0), Box::new(b.0)))
}

pub(super) fn intersect(
    a: Option<BTreeSet<u32>>,
    b: Option<BTreeSet<u32>>,
) -> Option<BTreeSet<u32>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
        (a, None) => a,
        (None, b) => b,
    }
}

pub(super) fn union(a: Option<BTreeSet<u32>>, b: Option<BTreeSet<u32>>) -> Option<BTreeSet<u32>> {
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
pub(super) fn push(e: &Expr, arch: Arch) -> Pushdown {
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
