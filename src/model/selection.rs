//! Which processes to keep, by container: `--pod`, `--namespace`,
//! `--container`, `--host` and the container part of `--filter`. The
//! topology applies it in the kernel on a live run, the user filter on replay.

use anyhow::Result;
use regex::Regex;

use crate::model::container::ContainerInfo;
use crate::model::filter::{regex_problem, ContainerNames, ContainerPred};
use crate::model::flow::usage;

/// Which processes to keep, by container. All regexes given must match; a
/// container without the named field (no pod, name not yet known) does
/// not. `host` adds the processes outside containers.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub pod: Option<Regex>,
    pub namespace: Option<Regex>,
    pub container: Option<Regex>,
    pub host: bool,
    /// The container part of `--filter` (`Filter::pushdown`), on top of the
    /// flags.
    pub filter: Option<ContainerPred>,
}

impl Selection {
    /// None when nothing is selected by container (everything passes).
    pub fn new(
        pod: Option<&str>,
        namespace: Option<&str>,
        container: Option<&str>,
        host: bool,
    ) -> Result<Option<Selection>> {
        let re = |r: Option<&str>, flag: &str| {
            r.map(|r| {
                Regex::new(r).map_err(|e| {
                    usage(format!("invalid {flag} regex {r:?}: {}", regex_problem(&e)))
                })
            })
            .transpose()
        };
        let s = Selection {
            pod: re(pod, "--pod")?,
            namespace: re(namespace, "--namespace")?,
            container: re(container, "--container")?,
            host,
            filter: None,
        };
        Ok((s.host || s.by_container()).then_some(s))
    }

    /// Adds the container part of a `--filter` expression.
    pub fn with_filter(sel: Option<Selection>, pred: Option<ContainerPred>) -> Option<Selection> {
        match pred {
            None => sel,
            Some(p) => Some(Selection {
                filter: Some(p),
                ..sel.unwrap_or_default()
            }),
        }
    }

    fn by_container(&self) -> bool {
        self.pod.is_some() || self.namespace.is_some() || self.container.is_some()
    }

    /// `None`: a host process.
    pub fn matches(&self, c: Option<&ContainerInfo>) -> bool {
        let ok = |re: &Option<Regex>, v: Option<&str>| {
            re.as_ref()
                .is_none_or(|re| v.is_some_and(|v| re.is_match(v)))
        };
        let by_flags = !(self.host || self.by_container())
            || match c {
                None => self.host,
                Some(c) => {
                    self.by_container()
                        && ok(&self.pod, c.pod_name())
                        && ok(&self.namespace, c.namespace())
                        && ok(&self.container, c.name.as_deref())
                }
            };
        by_flags
            && self
                .filter
                .as_ref()
                .is_none_or(|p| p.matches(&ContainerNames::of(c)))
    }
}
