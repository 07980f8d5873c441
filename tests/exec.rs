//! Root-only, real eBPF: execve's path and argv where a read at sys_enter
//! cannot see them. A freshly forked child has no page-table entries for
//! its parent's read-only data, and a file page that was mapped but never
//! read has none either; strace (which faults pages in) shows the strings,
//! and so must the tracer. A small C program makes these calls exactly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{require_root, wait_for, Collected, Scratch};

/// Each mode prints `pid N` for the process whose exec is to be checked.
const PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* In .rodata: the child's page tables have no entry for them after fork. */
static char *const rodata_argv[] = {"true", "from-rodata", NULL};

static void report(pid_t pid)
{
	int st = 0;
	waitpid(pid, &st, 0);
	printf("pid %d\n", (int)pid);
	fflush(stdout);
}

/* The strings live in a file mapped here and never read by this process:
 * "/bin/true\0true\0from-untouched-page\0" at offsets 0, 10 and 15. */
static void exec_at(const char *data, int dirfd)
{
	int fd = open(data, O_RDONLY);
	if (fd < 0)
		exit(2);
	const char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		exit(2);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)p + 10, (char *)p + 15, NULL};
		/* Relative to /bin through the dirfd: "true" at offset 5. */
		const char *path = dirfd == AT_FDCWD ? p : p + 5;
		syscall(SYS_execveat, dirfd, path, argv, environ, 0);
		_exit(1);
	}
	report(pid);
}

static void *thread_exec(void *arg)
{
	(void)arg;
	static const char path[] = "/bin/true";
	static char *const argv[] = {"true", "from-thread", NULL};
	/* Touched first, so a read at sys_enter succeeds: what is checked
	 * here is the join of enter and exit across the change of pid. */
	for (int i = 0; i < 2; i++)
		(void)*(volatile const char *)argv[i];
	(void)*(volatile const char *)path;
	execve(path, argv, environ);
	_exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			execve("/bin/true", rodata_argv, environ);
			_exit(1);
		}
		report(pid);
	} else if (!strcmp(argv[1], "enoent")) {
		pid_t pid = fork();
		if (pid == 0) {
			execve("/nonexistent/stexec-missing", rodata_argv, environ);
			_exit(0);
		}
		report(pid);
	} else if (!strcmp(argv[1], "at") && argc > 2) {
		exec_at(argv[2], AT_FDCWD);
	} else if (!strcmp(argv[1], "at-dirfd") && argc > 2) {
		/* A fixed number, whatever descriptors the runner left open. */
		int dir = open("/bin", O_PATH | O_DIRECTORY);
		if (dir < 0 || dup2(dir, 9) != 9)
			return 2;
		exec_at(argv[2], 9);
	} else if (!strcmp(argv[1], "thread")) {
		/* A thread other than the leader execs: the process continues
		 * under the leader's pid. */
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		pthread_t t;
		pthread_create(&t, NULL, thread_exec, NULL);
		pthread_join(t, NULL);
		return 1;
	} else {
		return 2;
	}
	return 0;
}
"#;

/// Builds the C program into `dir` (gcc is part of the test setup).
fn build(dir: &Path) -> PathBuf {
    let src = dir.join("stexec.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let exe = dir.join("stexec");
    let out = Command::new("gcc")
        .args(["-O1", "-pthread", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("gcc is installed");
    assert!(
        out.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The strings execveat gets, in a file of their own.
    std::fs::write(dir.join("data"), b"/bin/true\0true\0from-untouched-page\0").unwrap();
    exe
}

/// Runs one mode and returns the pid it reports.
fn run_mode(exe: &Path, dir: &Path, mode: &str) -> u32 {
    let out = Command::new(exe)
        .arg(mode)
        .arg(dir.join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("{mode}: no pid in {text:?} ({:?})", out.status))
}

/// The tracer's line for an exec call of `pid` whose comm at exit is
/// `comm` (the new image's name once the exec succeeded), once it is printed.
fn exec_line(out: &Mutex<String>, comm: &str, pid: u32, call: &str) -> Option<String> {
    let tag = format!(" {comm}[{pid}/");
    wait_for(Duration::from_secs(20), || {
        let o = out.lock().unwrap();
        o.lines()
            .find(|l| l.contains(&tag) && l.contains(&format!("] {call}(")))
            .map(str::to_string)
    })
}

#[test]
fn exec_strings_are_shown_where_enter_could_not_read_them() {
    if !require_root("exec_strings_are_shown_where_enter_could_not_read_them") {
        return;
    }
    let dir = Scratch::new();
    let exe = build(dir.dir());

    let tracer = Collected::start(&["--filter", "syscall == execve or syscall == execveat"]);
    let out = tracer.out.clone();

    let fork = run_mode(&exe, dir.dir(), "fork");
    let enoent = run_mode(&exe, dir.dir(), "enoent");
    let at = run_mode(&exe, dir.dir(), "at");
    let at_dirfd = run_mode(&exe, dir.dir(), "at-dirfd");
    let thread = run_mode(&exe, dir.dir(), "thread");

    let lines: Vec<Option<String>> = vec![
        exec_line(&out, "true", fork, "execve"),
        exec_line(&out, "stexec", enoent, "execve"),
        exec_line(&out, "true", at, "execveat"),
        exec_line(&out, "true", at_dirfd, "execveat"),
        exec_line(&out, "true", thread, "execve"),
    ];
    let all = tracer.stop();
    let line = |i: usize, what: &str| -> String {
        lines[i]
            .clone()
            .unwrap_or_else(|| panic!("no line for {what} in:\n{all}"))
    };

    // Strings in the parent's .rodata, exec'd by a freshly forked child.
    let l = line(0, "fork + execve");
    assert!(
        l.contains(r#"] execve("/bin/true", ["true", "from-rodata"], 0x"#),
        "{l}"
    );
    assert!(l.contains(") = 0 <"), "{l}");
    // A failed exec keeps its path (read again at exit: the kernel has
    // faulted it in by then).
    let l = line(1, "failed execve");
    assert!(
        l.contains(r#"] execve("/nonexistent/stexec-missing", "#),
        "{l}"
    );
    assert!(l.contains(") = -1 ENOENT"), "{l}");
    // Path and argv on a mapped file page nobody has touched.
    let l = line(2, "execveat(AT_FDCWD)");
    assert!(
        l.contains(r#"] execveat(AT_FDCWD, "/bin/true", ["true", "from-untouched-page"], 0x"#),
        "{l}"
    );
    assert!(l.contains(", 0) = 0 <"), "{l}");
    // Relative to a directory fd: the path as passed, not the kernel's
    // /dev/fd/N/... name for it.
    let l = line(3, "execveat(dirfd)");
    assert!(
        l.contains(r#"execveat(9, "true", ["true", "from-untouched-page"], 0x"#),
        "{l}"
    );
    assert!(l.contains(", 0) = 0 <"), "{l}");
    // A non-leader thread's exec is joined with its exit under the new pid.
    let l = line(4, "execve from a thread");
    assert!(
        l.contains(r#"] execve("/bin/true", ["true", "from-thread"], 0x"#),
        "{l}"
    );
    assert!(l.contains(") = 0 <"), "{l}");
}
