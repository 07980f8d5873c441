//! `--json`: one JSON object per syscall on standard output, for `jq` and
//! scripts. Unlike `-w -` (a session file, replayable, with a header and
//! container lines), each line stands alone: the call as strace shows it,
//! its numbers, and the container it ran in.
//!
//! `{"time":"12:00:00.123456","pid":42,"tid":42,"comm":"cat","syscall":"openat",
//!   "args":"AT_FDCWD, \"/etc/x\", O_RDONLY","ret":-2,"result":"-1 ENOENT",
//!   "errno":"ENOENT","duration_ns":2100,"container":"shop/web-1/app",
//!   "node":null,"namespace":"shop","pod":"web-1","container_name":"app"}`
//!
//! The last four are the label `host` and no names for a host process.
//! Events of node agents (`--node`, `--source`) also carry `"node"`, the
//! node's name (null for this machine's own).

use anyhow::Result;

use super::headless::LineOut;
use super::Consumer;
use crate::clock::Clock;
use crate::model::container::ContainerMap;
use crate::model::event::{Event, TraceEvent};
use crate::model::stop::Stop;
use crate::model::{args, errno, jsonw};

pub struct JsonLines {
    clock: Clock,
    out: LineOut,
}

impl JsonLines {
    pub fn new(clock: Clock, stop: &Stop) -> JsonLines {
        JsonLines {
            clock,
            out: LineOut::stdout(stop),
        }
    }

    fn line(&self, e: &TraceEvent, containers: &ContainerMap) -> String {
        let mut o = Vec::with_capacity(256);
        let field = |o: &mut Vec<u8>, name: &str| {
            o.extend_from_slice(if o.is_empty() { b"{" } else { b"," });
            jsonw::str(o, name);
            o.push(b':');
        };
        field(&mut o, "time");
        jsonw::str(&mut o, &self.clock.time_of_day(e.start_ns));
        field(&mut o, "pid");
        jsonw::uint(&mut o, e.id.pid.into());
        field(&mut o, "tid");
        jsonw::uint(&mut o, e.id.tid.into());
        field(&mut o, "comm");
        jsonw::bytes_str(&mut o, e.comm_bytes());
        field(&mut o, "syscall");
        jsonw::str(&mut o, &e.name());
        let mut a = String::new();
        args::format_args(e, &mut a);
        field(&mut o, "args");
        jsonw::str(&mut o, &a);
        if e.returns() {
            field(&mut o, "ret");
            jsonw::int(&mut o, e.ret);
            field(&mut o, "result");
            jsonw::str(&mut o, &args::format_result(e));
            if let Some(n) = e.errno() {
                field(&mut o, "errno");
                match errno::name(n) {
                    Some(name) => jsonw::str(&mut o, name),
                    None => jsonw::uint(&mut o, n.into()),
                }
            }
            field(&mut o, "duration_ns");
            jsonw::uint(&mut o, e.duration_ns());
        }
        let c = containers.get(e.id.cgroup_id);
        field(&mut o, "container");
        jsonw::str(&mut o, &containers.label(e.id.cgroup_id));
        let node = crate::model::node::name(e.node);
        let names = [
            ("node", node.as_deref()),
            ("namespace", c.and_then(|c| c.namespace())),
            ("pod", c.and_then(|c| c.pod_name())),
            ("container_name", c.and_then(|c| c.name.as_deref())),
        ];
        for (k, v) in names {
            field(&mut o, k);
            match v {
                Some(v) => jsonw::str(&mut o, v),
                None => o.extend_from_slice(b"null"),
            }
        }
        o.push(b'}');
        // Every piece above is valid UTF-8 (jsonw escapes what is not).
        String::from_utf8(o).unwrap_or_default()
    }
}

impl Consumer for JsonLines {
    fn arrived(&mut self, batch: &[Event]) {
        self.out.arrived(batch);
    }

    fn take(&mut self, batch: &[Event], containers: &ContainerMap) -> Result<bool> {
        for ev in batch {
            if let Event::Syscall(e) = ev {
                let line = self.line(e, containers);
                self.out.push(e, line);
            }
        }
        self.out.write_ready(false)
    }

    fn idle(&mut self) -> Result<bool> {
        self.out.idle();
        self.out.write_ready(false)
    }

    fn finish(&mut self) -> Result<()> {
        self.out.write_ready(true).map(drop)
    }

    fn lines_on_terminal(&self) -> bool {
        std::io::IsTerminal::is_terminal(&std::io::stdout())
    }
}
