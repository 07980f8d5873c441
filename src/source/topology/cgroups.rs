//! The cgroup v2 hierarchy: where it is mounted, and which directory each
//! cgroup id (the directory's inode, what `bpf_get_current_cgroup_id()`
//! returns) stands for.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use crate::model::flow::CgroupScope;

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount point of the cgroup2 file system in a mountinfo text (hybrid
/// hosts mount it at /sys/fs/cgroup/unified, v2-only hosts at
/// /sys/fs/cgroup). A mount of the whole tree is preferred over one of a
/// subtree (a bind mount of one cgroup, as runtimes make for nested
/// containers), which would hide every cgroup outside it. None on v1-only
/// hosts.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    let mounts: Vec<(&str, &str)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            if post.split_whitespace().next()? != "cgroup2" {
                return None;
            }
            let mut f = pre.split_whitespace().skip(3);
            Some((f.next()?, f.next()?))
        })
        .collect();
    let (_, mnt) = mounts
        .iter()
        .find(|(root, _)| *root == "/")
        .or_else(|| mounts.first())?;
    Some(PathBuf::from(unescape_mountinfo(mnt)))
}

/// `--cgroup PATH`: a cgroup v2 directory given as /proc/PID/cgroup shows
/// it (`/a/b`, below the cgroup2 root), relative to the cgroup2 mount
/// (`a/b`), or as a path under the mount; with its id and depth for the
/// kernel's test. The error says what is wrong with `given`.
pub fn scope(given: &str, mountinfo: &str) -> std::result::Result<CgroupScope, String> {
    let shown = crate::model::escape::plain(given.as_bytes(), 256);
    let mount = cgroup2_mount(mountinfo)
        .ok_or_else(|| format!("--cgroup {shown}: no cgroup v2 file system is mounted"))?;
    if given.is_empty() {
        return Err("--cgroup: the path is empty".into());
    }
    let p = Path::new(given);
    let candidate = if p.starts_with(&mount) {
        p.to_path_buf()
    } else {
        mount.join(p.strip_prefix("/").unwrap_or(p))
    };
    let not_v2 = |why: String| {
        format!(
            "--cgroup {shown}: {why} (cgroup v2 paths are below {})",
            mount.display()
        )
    };
    let real = candidate
        .canonicalize()
        .map_err(|e| not_v2(format!("{}: {e}", candidate.display())))?;
    let base = mount.canonicalize().unwrap_or(mount.clone());
    let rel = real
        .strip_prefix(&base)
        .map_err(|_| not_v2(format!("{} is not a cgroup v2 directory", real.display())))?;
    if !real.join("cgroup.procs").is_file() || !is_cgroup2(&real) {
        return Err(not_v2(format!(
            "{} is not a cgroup v2 directory",
            real.display()
        )));
    }
    let meta = std::fs::metadata(&real).map_err(|e| not_v2(e.to_string()))?;
    // The mount may show a subtree of the hierarchy: its depth counts too.
    let root_depth = mount_root(mountinfo, &mount).map_or(0, |r| {
        Path::new(&r)
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .count()
    });
    Ok(CgroupScope {
        path: format!("/{}", rel.display()),
        id: meta.ino(),
        level: (root_depth + rel.components().count()) as u32,
    })
}

/// Whether `p` is on a cgroup2 file system.
fn is_cgroup2(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid C string, and a statfs the call fills.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    (unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0) && st.f_type == libc::CGROUP2_SUPER_MAGIC
}

/// The root (within the hierarchy) of the cgroup2 mount at `mount`.
fn mount_root(mountinfo: &str, mount: &Path) -> Option<String> {
    mountinfo.lines().find_map(|line| {
        let (pre, post) = line.split_once(" - ")?;
        if post.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mut f = pre.split_whitespace().skip(3);
        let (root, mnt) = (f.next()?, f.next()?);
        (Path::new(&unescape_mountinfo(mnt)) == mount).then(|| unescape_mountinfo(root))
    })
}

/// A cgroup v1 hierarchy: where it is mounted and its controllers as
/// /proc/PID/cgroup lists them (`pids`, `cpu,cpuacct`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Hierarchy {
    pub mount: PathBuf,
    pub controllers: String,
}

/// The v1 hierarchy to read nested containers from on a hybrid host: `pids`
/// if mounted, else `memory`, else any with a controller. None on v2-only
/// hosts. Runtimes inside a node container that cannot use the cgroup2
/// tree (a hybrid host's) make their cgroups in every v1 hierarchy, so one
/// is enough.
pub fn v1_hierarchy(mountinfo: &str) -> Option<V1Hierarchy> {
    let mut found: Vec<V1Hierarchy> = mountinfo
        .lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let mut p = post.split_whitespace();
            if p.next()? != "cgroup" {
                return None;
            }
            let opts = p.nth(1)?;
            let mut f = pre.split_whitespace().skip(3);
            if f.next()? != "/" {
                return None;
            }
            let mnt = f.next()?;
            let ctl: Vec<&str> = opts
                .split(',')
                .filter(|o| {
                    !matches!(
                        *o,
                        "rw" | "ro" | "nosuid" | "nodev" | "noexec" | "relatime" | "clone_children"
                    ) && !o.contains('=')
                })
                .collect();
            (!ctl.is_empty()).then(|| V1Hierarchy {
                mount: PathBuf::from(unescape_mountinfo(mnt)),
                controllers: ctl.join(","),
            })
        })
        .collect();
    let rank = |h: &V1Hierarchy| match h.controllers.as_str() {
        "pids" => 0,
        "memory" => 1,
        _ => 2,
    };
    found.sort_by_key(rank);
    found.into_iter().next()
}

/// The path of one v1 hierarchy in a /proc/PID/cgroup text.
pub fn v1_path<'a>(proc_cgroup: &'a str, controllers: &str) -> Option<&'a str> {
    proc_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let _ = f.next()?;
        (f.next()? == controllers).then_some(())?;
        f.next()
    })
}

/// The directories under `base` (`rel` is its path in the hierarchy), as
/// hierarchy paths, at most `limit` of them.
pub fn subdirs(base: &Path, rel: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(base.to_path_buf(), rel.trim_end_matches('/').to_string())];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for ent in rd.flatten() {
            if out.len() >= limit {
                return out;
            }
            if !ent.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let child = format!("{rel}/{}", ent.file_name().to_string_lossy());
            out.push(child.clone());
            stack.push((ent.path(), child));
        }
    }
    out
}

/// The pids in a cgroup directory.
pub fn procs(dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// The cgroup v2 tree, with an id -> path cache that is rebuilt by a walk
/// when asked (on an unknown id, and on a timer for deletions), never per
/// event.
pub struct CgroupTree {
    root: PathBuf,
    /// cgroup id -> path relative to the mount ("/" for the root).
    paths: HashMap<u64, String>,
}

impl CgroupTree {
    /// Finds the cgroup2 mount of this process's mount namespace.
    pub fn discover() -> Result<CgroupTree> {
        let mi = std::fs::read_to_string("/proc/self/mountinfo")
            .context("reading /proc/self/mountinfo")?;
        let root = cgroup2_mount(&mi).ok_or_else(|| {
            anyhow!("no cgroup2 file system is mounted (cgroup v1-only host): containers cannot be told apart by cgroup id")
        })?;
        Ok(CgroupTree::at(root))
    }

    pub fn at(root: PathBuf) -> CgroupTree {
        CgroupTree {
            root,
            paths: HashMap::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn get(&self, id: u64) -> Option<&str> {
        self.paths.get(&id).map(String::as_str)
    }

    pub fn paths(&self) -> &HashMap<u64, String> {
        &self.paths
    }

    /// The directory of a cgroup path.
    pub fn dir(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// Walks the whole tree again. Directories that vanish mid-walk are
    /// skipped: cgroups come and go all the time.
    pub fn rescan(&mut self) -> Result<()> {
        let mut paths = HashMap::with_capacity(self.paths.len().max(64));
        let md = std::fs::metadata(&self.root)
            .with_context(|| format!("reading {}", self.root.display()))?;
        paths.insert(md.ino(), "/".to_string());
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for ent in rd.flatten() {
                let Ok(ft) = ent.file_type() else { continue };
                if !ft.is_dir() {
                    continue;
                }
                let Ok(md) = ent.metadata() else { continue };
                let name = ent.file_name().to_string_lossy().into_owned();
                let child = format!("{rel}/{name}");
                paths.insert(md.ino(), child.clone());
                stack.push((ent.path(), child));
            }
        }
        self.paths = paths;
        Ok(())
    }

    /// A pid in a cgroup (for reading its hostname), if any is left.
    pub fn first_pid(&self, rel: &str) -> Option<u32> {
        let procs = std::fs::read_to_string(self.dir(rel).join("cgroup.procs")).ok()?;
        procs.lines().find_map(|l| l.trim().parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_needs_cgroup2_and_its_level_counts_the_mounts_root() {
        let v1 = "30 28 0:27 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n";
        let e = scope("/a", v1).unwrap_err();
        assert!(e.contains("no cgroup v2 file system is mounted"), "{e}");
        let sub = "40 24 0:30 /kubepods/pod1 /run/nested rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            mount_root(sub, Path::new("/run/nested")).as_deref(),
            Some("/kubepods/pod1")
        );
        assert_eq!(mount_root(sub, Path::new("/elsewhere")), None);
    }

    #[test]
    fn finds_cgroup2_on_hybrid_v2_and_v1_hosts() {
        let hybrid = "\
25 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
28 25 0:25 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755
29 28 0:26 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate
30 28 0:27 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory
";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let v2 = "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup2_mount(v2), Some(PathBuf::from("/sys/fs/cgroup")));
        let v1 = "30 28 0:27 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n";
        assert_eq!(cgroup2_mount(v1), None);
        let spaced = "35 24 0:30 / /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(cgroup2_mount(spaced), Some(PathBuf::from("/mnt/my cg")));
        let sub_first = "\
40 24 0:30 /kubepods/pod1 /run/nested rw - cgroup2 cgroup2 rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw
";
        assert_eq!(
            cgroup2_mount(sub_first),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let only_sub = "40 24 0:30 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(only_sub),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
    }

    #[test]
    fn finds_a_v1_hierarchy_and_a_process_path_in_it() {
        let hybrid = "\
29 28 0:26 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate
30 28 0:27 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
31 28 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct
32 28 0:29 / /sys/fs/cgroup/pids rw shared:13 - cgroup cgroup rw,pids
";
        let h = v1_hierarchy(hybrid).unwrap();
        assert_eq!(h.mount, PathBuf::from("/sys/fs/cgroup/pids"));
        assert_eq!(h.controllers, "pids");
        let no_pids =
            "31 28 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(v1_hierarchy(no_pids).unwrap().controllers, "cpu,cpuacct");
        let v2 = "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(v1_hierarchy(v2), None);
        let pc = "12:pids:/libpod_parent/libpod-a/kubepods/besteffort/podx/b\n3:cpu,cpuacct:/c\n0::/libpod_parent/libpod-a\n";
        assert_eq!(
            v1_path(pc, "pids"),
            Some("/libpod_parent/libpod-a/kubepods/besteffort/podx/b")
        );
        assert_eq!(v1_path(pc, "cpu,cpuacct"), Some("/c"));
        assert_eq!(v1_path(pc, "memory"), None);
    }

    #[test]
    fn rescan_maps_inodes_to_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let mut t = CgroupTree::at(dir.path().to_path_buf());
        t.rescan().unwrap();
        let ino = std::fs::metadata(dir.path().join("a/b")).unwrap().ino();
        assert_eq!(t.get(ino), Some("/a/b"));
        let root = std::fs::metadata(dir.path()).unwrap().ino();
        assert_eq!(t.get(root), Some("/"));
        std::fs::remove_dir(dir.path().join("a/b")).unwrap();
        t.rescan().unwrap();
        assert_eq!(t.get(ino), None);
    }
}
