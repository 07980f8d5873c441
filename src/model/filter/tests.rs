use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::model::raw::F_NO_RETURN;
use crate::model::testing::EventBuilder;

/// The kernel's bitmap size (MAX_NR in the eBPF program).
const MAX_NR: u32 = 1024;

fn ev(name: &str, comm: &str, pid: u32, ret: i64, dur_ns: u64, path: Option<&str>) -> TraceEvent {
    let b = EventBuilder::named(name)
        .ret(ret)
        .start(1000)
        .duration(dur_ns)
        .pid(pid)
        .tid(pid + 1)
        .uid(1000)
        .cgroup(u64::from(pid))
        .args(&[0xffff_ff9c, 0x1000, 0x80000])
        .comm(comm);
    match path {
        Some(p) => b.path(1, p),
        None => b,
    }
    .build()
}

/// cgroup id = pid in the crafted events; pid 10 runs in pod web-1.
struct Pods(HashMap<u64, (&'static str, &'static str, &'static str)>);

impl FilterContext for Pods {
    fn container(&self, cgroup_id: u64) -> ContainerNames<'_> {
        match self.0.get(&cgroup_id) {
            Some((c, p, n)) => ContainerNames {
                container: Some(c),
                pod: Some(p),
                namespace: Some(n),
            },
            None => ContainerNames::default(),
        }
    }
}

fn sample() -> Vec<TraceEvent> {
    let mut exit = ev("exit_group", "cat", 11, 0, 0, None);
    exit.flags = F_NO_RETURN;
    vec![
        ev("openat", "cat", 10, -2, 4_000, Some("/etc/nope")), // 0
        ev("openat", "cat", 10, 3, 2_000_000, Some("/etc/passwd")), // 1
        ev("read", "nginx", 20, 512, 500, None),               // 2
        ev("connect", "curl", 30, -111, 3_000_000_000, None),  // 3
        ev("getppid", "sh", 40, 1, 100, None),                 // 4
        exit,                                                  // 5
    ]
}

fn pods() -> Pods {
    Pods([(10, ("app", "web-1", "prod"))].into_iter().collect())
}

fn selected(expr: &str) -> Vec<usize> {
    let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let ctx = pods();
    sample()
        .iter()
        .enumerate()
        .filter(|(_, e)| f.matches(e, &ctx))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn valid_expressions_select_the_right_events() {
    let table: &[(&str, &[usize])] = &[
        ("syscall == openat", &[0, 1]),
        ("syscall = openat", &[0, 1]),
        ("syscall != openat", &[2, 3, 4, 5]),
        ("syscall in (read, connect)", &[2, 3]),
        ("syscall not in (read, connect)", &[0, 1, 4, 5]),
        ("syscall ~ '^open'", &[0, 1]),
        ("class == file", &[0, 1, 2]),
        ("class == network", &[3]),
        ("class in (network, process)", &[3, 4, 5]),
        ("comm == cat", &[0, 1, 5]),
        ("comm ~ \"^n\"", &[2]),
        ("comm !~ c", &[2, 4]),
        ("pid == 10", &[0, 1]),
        ("pid in (20, 30)", &[2, 3]),
        ("pid > 20", &[3, 4]),
        ("pid >= 20 and pid <= 30", &[2, 3]),
        ("tid == 11", &[0, 1]),
        ("uid == 1000", &[0, 1, 2, 3, 4, 5]),
        ("ret == -2", &[0]),
        ("ret < 0", &[0, 3]),
        ("ret == 0x200", &[2]),
        ("errno == ENOENT", &[0]),
        ("errno == enoent", &[0]),
        ("errno == 2", &[0]),
        ("errno != 0", &[0, 3]),
        ("errno == 0", &[1, 2, 4, 5]),
        ("errno in (ENOENT, ECONNREFUSED)", &[0, 3]),
        ("errno != ENOENT", &[1, 2, 3, 4, 5]),
        ("duration > 1ms", &[1, 3]),
        ("duration >= 2ms", &[1, 3]),
        ("duration < 1us", &[2, 4]),
        ("duration > 2.5s", &[3]),
        ("duration <= 250us", &[0, 2, 4]),
        ("path == /etc/passwd", &[1]),
        ("path ~ '^/etc/'", &[0, 1]),
        ("path != /etc/passwd", &[0, 2, 3, 4, 5]),
        ("args ~ '\"/etc/nope\"'", &[0]),
        ("args ~ passwd", &[1]),
        // getppid has no arguments: empty text; exit_group's is its status.
        ("args == ''", &[4]),
        ("args !~ '.'", &[4]),
        ("args ~ '^-100$'", &[5]),
        ("pod == web-1", &[0, 1]),
        ("namespace == prod and container == app", &[0, 1]),
        ("pod != web-1", &[2, 3, 4, 5]),
        ("pod ~ web", &[0, 1]),
        ("not syscall == openat", &[2, 3, 4, 5]),
        ("! (pid == 10 or pid == 20)", &[3, 4, 5]),
        ("syscall == openat && errno != 0 || comm == sh", &[0, 4]),
        ("syscall == openat and (errno != 0 or comm == sh)", &[0]),
        ("pod == web-1 and class == file and errno != 0", &[0]),
        ("SYSCALL == openat AND NOT errno == ENOENT", &[1]),
        ("  ( ( comm == curl ) )  ", &[3]),
    ];
    for (expr, want) in table {
        assert_eq!(selected(expr), *want, "{expr}");
    }
}

#[test]
fn invalid_expressions_point_at_the_mistake() {
    let table: &[(&str, usize, &str)] = &[
        ("", 1, "expected a condition"),
        ("sycall == read", 1, "unknown field `sycall`"),
        ("syscall", 8, "expected an operator"),
        ("syscall ==", 11, "expected a value"),
        ("syscall == opnat", 12, "unknown syscall `opnat`"),
        ("class == files", 10, "unknown class `files`"),
        ("pid == abc", 8, "not a valid pid"),
        ("pid == -1", 8, "not a valid pid"),
        ("pid ~ 1", 5, "is a number"),
        ("comm < a", 6, "is text"),
        ("syscall > read", 9, "is text"),
        ("errno == ENOPE", 10, "unknown errno"),
        ("duration > 5", 12, "needs a unit"),
        ("duration > 5parsecs", 12, "not a duration"),
        ("path ~ '('", 8, "invalid regex"),
        ("comm == 'cat", 9, "unterminated string"),
        ("(pid == 1", 10, "expected `)` to close the `(` at column 1"),
        ("pid == 1)", 9, "unmatched `)`"),
        ("pid == 1 pid == 2", 10, "expected `and`, `or` or the end"),
        ("pid == 1 and", 13, "expected a condition"),
        ("pid in 1, 2", 8, "expected `(` after `in`"),
        ("pid in (1 2)", 11, "expected `,` or `)`"),
        ("comm not == x", 10, "expected `in` after `not`"),
        ("comm == #", 9, "unexpected character `#`"),
        ("== read", 1, "expected a field name"),
    ];
    for (expr, col, msg) in table {
        match Filter::parse(expr) {
            Ok(_) => panic!("{expr:?} parsed"),
            Err(e) => {
                assert_eq!(e.column, *col, "{expr:?}: {e}");
                assert!(e.message.contains(msg), "{expr:?}: {e}");
            }
        }
    }
}

#[test]
fn error_display_names_the_column() {
    let e = Filter::parse("pid == x").unwrap_err();
    assert_eq!(e.to_string(), "column 8: `x` is not a valid pid");
}

#[test]
fn durations_parse_with_units() {
    assert_eq!(parse_duration("1ms"), Some(1_000_000));
    assert_eq!(parse_duration("250us"), Some(250_000));
    assert_eq!(parse_duration("2s"), Some(2_000_000_000));
    assert_eq!(parse_duration("1.5ms"), Some(1_500_000));
    assert_eq!(parse_duration("10"), None);
    assert_eq!(parse_duration("ms"), None);
}

#[test]
fn without_container_context_pod_tests_fail_and_negations_pass() {
    let f = Filter::parse("pod == web-1").unwrap();
    let g = Filter::parse("pod != web-1").unwrap();
    let e = &sample()[0];
    assert!(!f.matches(e, &NoContainers));
    assert!(g.matches(e, &NoContainers));
}

fn nrs(names: &[&str]) -> Option<BTreeSet<u32>> {
    Some(
        names
            .iter()
            .map(|n| syscalls::by_name(Arch::X86_64, n).unwrap().nr)
            .collect(),
    )
}

#[test]
fn pushdown_of_typical_expressions() {
    let p = |s: &str| Filter::parse(s).unwrap().pushdown(Arch::X86_64, MAX_NR);
    assert_eq!(
        p("pid == 7 and syscall in (read, write) and errno != 0"),
        Pushdown {
            pids: Some([7].into()),
            syscalls: nrs(&["read", "write"]),
            containers: None,
        }
    );
    assert_eq!(p("pid == 7 or pid in (8, 9)").pids, Some([7, 8, 9].into()));
    assert_eq!(p("pid == 7 or comm == x"), Pushdown::default());
    assert_eq!(p("not pid == 7"), Pushdown::default());
    assert_eq!(p("pid != 7"), Pushdown::default());
    assert_eq!(p("pid == 7 and pid == 8").pids, Some(BTreeSet::new()));
    let file = p("class == file").syscalls.unwrap();
    assert!(
        file.contains(&257) && !file.contains(&110),
        "openat in, getppid out"
    );
    assert_eq!(p("syscall ~ '^getpp'").syscalls, nrs(&["getppid"]));
    // Container names: positive tests under and/or go to the cgroup set.
    let names = |pod, namespace, container| ContainerNames {
        pod,
        namespace,
        container,
    };
    let web = names(Some("web-1"), Some("shop"), Some("app"));
    let db = names(Some("db-0"), Some("shop"), Some("db"));
    let standalone = names(None, None, Some("redis"));
    let host = ContainerNames::default();
    let c = p("pod ~ '^web-' and syscall == read").containers.unwrap();
    assert!(c.matches(&web) && !c.matches(&db) && !c.matches(&standalone) && !c.matches(&host));
    let c = p("namespace == shop and (container in (db, redis) or pod == web-1)")
        .containers
        .unwrap();
    assert!(c.matches(&web) && c.matches(&db) && !c.matches(&standalone));
    let c = p("container == redis or pod == db-0").containers.unwrap();
    assert!(c.matches(&standalone) && c.matches(&db) && !c.matches(&web));
    assert_eq!(p("pod == web-1 or pid == 7").containers, None);
    assert_eq!(p("not pod == web-1").containers, None);
    assert_eq!(p("pod != web-1").containers, None);
    assert_eq!(p("pod !~ web").containers, None);
    // Beyond the kernel bitmap the syscall set cannot be pushed.
    assert_eq!(
        Filter::parse("syscall == openat")
            .unwrap()
            .pushdown(Arch::X86_64, 100),
        Pushdown::default()
    );
}

/// The kernel side's test (src/source/kernel/systrace.bpf.c `filter_ok`; the cgroup
/// set holds the cgroups whose container the predicate accepts).
fn kernel_passes(p: &Pushdown, e: &TraceEvent, ctx: &dyn FilterContext) -> bool {
    p.pids.as_ref().is_none_or(|s| s.contains(&e.id.pid))
        && p.syscalls
            .as_ref()
            .is_none_or(|s| e.nr < MAX_NR && s.contains(&e.nr))
        && p.containers
            .as_ref()
            .is_none_or(|c| c.matches(&ctx.container(e.id.cgroup_id)))
}

const NAMES: [&str; 6] = ["openat", "read", "write", "getppid", "connect", "mmap"];
const COMMS: [&str; 3] = ["cat", "sh", "curl"];

fn atom() -> impl Strategy<Value = String> {
    let pid = 1u32..6;
    prop_oneof![
        pid.clone().prop_map(|p| format!("pid == {p}")),
        pid.clone().prop_map(|p| format!("pid != {p}")),
        pid.clone().prop_map(|p| format!("pid < {p}")),
        (pid.clone(), pid.clone()).prop_map(|(a, b)| format!("pid in ({a}, {b})")),
        (pid.clone(), pid).prop_map(|(a, b)| format!("pid not in ({a}, {b})")),
        (0..NAMES.len()).prop_map(|i| format!("syscall == {}", NAMES[i])),
        (0..NAMES.len()).prop_map(|i| format!("syscall != {}", NAMES[i])),
        (0..NAMES.len(), 0..NAMES.len())
            .prop_map(|(a, b)| format!("syscall in ({}, {})", NAMES[a], NAMES[b])),
        prop_oneof![
            Just("file"),
            Just("network"),
            Just("memory"),
            Just("process")
        ]
        .prop_map(|c| format!("class == {c}")),
        (0..COMMS.len()).prop_map(|i| format!("comm == {}", COMMS[i])),
        Just("errno != 0".to_string()),
        Just("duration > 1us".to_string()),
        prop_oneof![
            Just("pod == web-1"),
            Just("pod ~ '^web'"),
            Just("pod != web-1"),
            Just("namespace == shop"),
            Just("namespace in (shop, prod)"),
            Just("container == app"),
            Just("container !~ '^d'"),
        ]
        .prop_map(str::to_string),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    atom().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn event() -> impl Strategy<Value = TraceEvent> {
    (
        0..NAMES.len(),
        0..COMMS.len(),
        1u32..6,
        prop_oneof![Just(-2i64), Just(0), Just(3)],
        0u64..3000,
    )
        .prop_map(|(n, c, pid, ret, d)| ev(NAMES[n], COMMS[c], pid, ret, d, None))
}

proptest! {
    /// The kernel pre-filter never drops an event the user-space filter
    /// would keep, so kernel + user space selects exactly what user space
    /// alone selects.
    #[test]
    fn pushdown_keeps_everything_the_filter_selects(
        text in expr(),
        events in proptest::collection::vec(event(), 1..40),
    ) {
        let f = Filter::parse(&text).unwrap();
        let p = f.pushdown(Arch::X86_64, MAX_NR);
        // cgroup id = pid: 1-3 in pods, 4 and 5 on the host.
        let ctx = Pods(HashMap::from([
            (1, ("app", "web-1", "shop")),
            (2, ("db", "db-0", "shop")),
            (3, ("app", "web-2", "prod")),
        ]));
        for e in &events {
            let user = f.matches(e, &ctx);
            let both = kernel_passes(&p, e, &ctx) && user;
            prop_assert_eq!(both, user, "{} on pid {} {}", text, e.id.pid, e.name());
        }
    }
}

#[test]
fn cheap_tests_are_evaluated_first() {
    let f = Filter::parse("args ~ passwd and pid == 10").unwrap();
    match &f.expr {
        Expr::And(a, b) => {
            assert!(
                matches!(&**a, Expr::Cmp(c) if c.field == Field::Pid),
                "{a:?}"
            );
            assert!(
                matches!(&**b, Expr::Cmp(c) if c.field == Field::Args),
                "{b:?}"
            );
        }
        e => panic!("{e:?}"),
    }
    // The text it was written as is kept.
    assert_eq!(f.text(), "args ~ passwd and pid == 10");
    assert_eq!(selected("args ~ passwd and pid == 10"), [1]);
    assert_eq!(selected("args ~ passwd or pid == 20"), [1, 2]);
}

/// Atoms of every cost class, the argument text and regexes included.
fn costly_atom() -> impl Strategy<Value = String> {
    prop_oneof![
        atom(),
        Just("args ~ nope".to_string()),
        Just("args ~ 'O_RDONLY'".to_string()),
        Just("args == ''".to_string()),
        Just("path ~ '^/etc/p'".to_string()),
        Just("path !~ 'nope'".to_string()),
        (0..COMMS.len()).prop_map(|i| format!("comm ~ '^{}'", &COMMS[i][..1])),
    ]
}

/// Events as `event()` makes them, some with a path.
fn event_with_path() -> impl Strategy<Value = TraceEvent> {
    let path = prop_oneof![
        Just(None),
        Just(Some("/etc/nope")),
        Just(Some("/etc/passwd"))
    ];
    (
        0..NAMES.len(),
        0..COMMS.len(),
        1u32..6,
        prop_oneof![Just(-2i64), Just(0), Just(3)],
        0u64..3000,
        path,
    )
        .prop_map(|(n, c, pid, ret, d, p)| ev(NAMES[n], COMMS[c], pid, ret, d, p))
}

proptest! {
    /// Reordering `and` / `or` by cost does not change what they select:
    /// a combination selects what its parts say it should.
    #[test]
    fn reordered_combinations_agree_with_their_parts(
        a in costly_atom(),
        b in costly_atom(),
        events in proptest::collection::vec(event_with_path(), 1..30),
    ) {
        let (fa, fb) = (Filter::parse(&a).unwrap(), Filter::parse(&b).unwrap());
        let and = Filter::parse(&format!("({a}) and ({b})")).unwrap();
        let or = Filter::parse(&format!("({a}) or ({b})")).unwrap();
        for e in &events {
            let (x, y) = (fa.matches(e, &NoContainers), fb.matches(e, &NoContainers));
            prop_assert_eq!(and.matches(e, &NoContainers), x && y, "{} and {}", a, b);
            prop_assert_eq!(or.matches(e, &NoContainers), x || y, "{} or {}", a, b);
        }
    }
}

#[test]
fn container_map_answers_pod_namespace_and_container() {
    use crate::model::container::{ContainerAddEvent, ContainerInfo, PodInfo, Runtime};
    use std::sync::Arc;
    let mut c = ContainerInfo::new(&"ab".repeat(32), Runtime::ContainerdCri);
    c.name = Some("app".into());
    c.pod = Some(PodInfo {
        name: Some("web-1".into()),
        namespace: Some("prod".into()),
        ..Default::default()
    });
    let mut map = ContainerMap::default();
    map.add(&ContainerAddEvent {
        cgroup_id: 10,
        container: Arc::new(c),
    });
    let f = Filter::parse("pod == web-1 and namespace == prod and container == app").unwrap();
    let evs = sample();
    assert!(f.matches(&evs[0], &map), "cgroup 10 is web-1");
    assert!(!f.matches(&evs[2], &map), "cgroup 20 is the host");
}

#[test]
fn node_selects_by_the_node_name_and_never_matches_local_events() {
    let mut remote = ev("getppid", "w", 7, 1, 10, None);
    remote.node = crate::model::node::intern("filter-node-a").unwrap();
    let local = ev("getppid", "w", 7, 1, 10, None);
    let ctx = pods();
    let m = |expr: &str, e: &TraceEvent| Filter::parse(expr).unwrap().matches(e, &ctx);
    assert!(m("node == \"filter-node-a\"", &remote));
    assert!(m("node ~ '^filter-node'", &remote));
    assert!(!m("node == \"filter-node-b\"", &remote));
    assert!(!m("node == \"filter-node-a\"", &local));
    assert!(m("node != \"filter-node-a\"", &local));
}
