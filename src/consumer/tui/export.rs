//! The `w` key: write the retained events (all, or those matching the view
//! filter) to a session file, on a background thread with a progress bar.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph};
use ratatui::Frame;

use super::app::{App, Source};
use crate::model::container::ContainerAddEvent;
use crate::model::escape;
use crate::model::event::{Event, TraceEvent};
use crate::session::format::Filters;
use crate::session::writer::{live_header, SessionFile};
use crate::terminal::progress::{Progress, Unit};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Matching,
}

pub struct Job {
    path: PathBuf,
    total: u64,
    done: Arc<AtomicU64>,
    handle: JoinHandle<Result<u64>>,
}

#[derive(Default)]
pub enum Stage {
    #[default]
    Idle,
    /// Typing the file name; why the last one was refused, if it was.
    Name(String, Option<String>),
    /// Choosing all retained events or only those the view shows (counted
    /// as drawn: events keep arriving while the question is open).
    Scope(PathBuf),
    /// The file exists: overwrite?
    Confirm(PathBuf, Scope),
    Running(Job),
}

#[derive(Default)]
pub struct ExportUi {
    pub stage: Stage,
    /// Header to write (the live machine's, or the replayed file's).
    pub base: Option<crate::session::format::Header>,
    /// The outcome of the last export, shown until the next one.
    pub message: Option<(String, bool)>,
}

pub fn open(app: &mut App) {
    if matches!(app.export.stage, Stage::Idle) {
        app.export.stage = Stage::Name(String::new(), None);
        app.export.message = None;
    }
}

/// Handles a key while a prompt is open; false lets the key table have it.
pub fn on_key(app: &mut App, k: &KeyEvent) -> bool {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return false;
    }
    let stage = std::mem::take(&mut app.export.stage);
    app.export.stage = match stage {
        Stage::Idle => return false,
        Stage::Running(j) => {
            app.export.stage = Stage::Running(j);
            return false;
        }
        Stage::Name(mut s, err) => match k.code {
            KeyCode::Esc => Stage::Idle,
            KeyCode::Enter if !s.trim().is_empty() => {
                let p = PathBuf::from(s.trim());
                if replaying(app, &p) {
                    // Writing would truncate the file while it is read.
                    let why = "that is the file being replayed: choose another name";
                    Stage::Name(s, Some(why.into()))
                } else {
                    Stage::Scope(p)
                }
            }
            KeyCode::Backspace => {
                s.pop();
                Stage::Name(s, None)
            }
            KeyCode::Char(c) => {
                s.push(c);
                Stage::Name(s, None)
            }
            _ => Stage::Name(s, err),
        },
        Stage::Scope(p) => match k.code {
            KeyCode::Esc => Stage::Idle,
            KeyCode::Char('a') => check(app, p, Scope::All),
            // Offered only when the view shows fewer than all.
            KeyCode::Char('m') if !app.unfiltered() => check(app, p, Scope::Matching),
            _ => Stage::Scope(p),
        },
        Stage::Confirm(p, scope) => match k.code {
            KeyCode::Char('y') => start(app, p, scope, true),
            KeyCode::Char('n') | KeyCode::Esc => {
                app.export.message = Some(("export cancelled".into(), false));
                Stage::Idle
            }
            _ => Stage::Confirm(p, scope),
        },
    };
    true
}

/// Whether `p` is the file this replay reads (the same inode, whatever the
/// name).
fn replaying(app: &App, p: &Path) -> bool {
    let Source::Replay { path, .. } = &app.source else {
        return false;
    };
    match (std::fs::metadata(path), std::fs::metadata(p)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn shown(p: &std::path::Path) -> String {
    escape::plain(p.as_os_str().as_encoded_bytes(), 120)
}

/// Asks before overwriting; refuses symlinks outright.
fn check(app: &mut App, p: PathBuf, scope: Scope) -> Stage {
    match std::fs::symlink_metadata(&p) {
        Ok(m) if m.file_type().is_symlink() => {
            app.export.message = Some((
                format!("{} is a symlink: not writing through it", shown(&p)),
                true,
            ));
            Stage::Idle
        }
        Ok(_) => Stage::Confirm(p, scope),
        Err(_) => start(app, p, scope, false),
    }
}

fn start(app: &mut App, path: PathBuf, scope: Scope, overwrite: bool) -> Stage {
    if scope == Scope::Matching {
        // The rows of a re-filter still going are only its newest part.
        app.refilter_step(std::time::Duration::MAX);
    }
    let (first, end) = (app.store.first_seq(), app.store.end_seq());
    let events: Vec<TraceEvent> = match scope {
        Scope::All => app.store.iter().cloned().collect(),
        // The rows the stream shows are the events matching the filter.
        Scope::Matching => app
            .list
            .rows
            .seqs_from(first, end, 0)
            .filter_map(|s| app.store.get(s).cloned())
            .collect(),
    };
    // The container of every cgroup the events name, announced first, so a
    // replay of the file knows them (as `-w` writes them while capturing).
    let mut cgroups: Vec<u64> = events
        .iter()
        .map(|e| e.id.cgroup_id)
        .collect::<HashSet<u64>>()
        .into_iter()
        .collect();
    cgroups.sort_unstable();
    let adds: Vec<Event> = cgroups
        .into_iter()
        .filter_map(|cg| {
            app.container_of(cg).map(|c| {
                Event::ContainerAdd(ContainerAddEvent {
                    cgroup_id: cg,
                    container: c.clone(),
                })
            })
        })
        .collect();
    let mut header = app
        .export
        .base
        .clone()
        .unwrap_or_else(|| live_header(app.clock, Filters::default()));
    if scope == Scope::Matching {
        header.filters.view = view_description(app);
    }
    // Created here so an error shows at once; written on a thread.
    let file = match SessionFile::create(&path, overwrite, &header) {
        Ok(f) => f,
        Err(e) => {
            app.export.message = Some((format!("{e:#}"), true));
            return Stage::Idle;
        }
    };
    let lost = app.lost;
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    let p = path.clone();
    let total = events.len() as u64;
    let handle = std::thread::Builder::new()
        .name("export".into())
        .spawn(move || -> Result<u64> {
            let mut file = file;
            for add in &adds {
                file.event(add)
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            for (i, ev) in events.iter().enumerate() {
                file.syscall(ev)
                    .with_context(|| format!("writing {}", p.display()))?;
                if i % 1024 == 0 {
                    d.store(i as u64, Ordering::Relaxed);
                }
            }
            let n = file
                .finish(lost)
                .with_context(|| format!("writing {}", p.display()))?;
            d.store(n, Ordering::Relaxed);
            Ok(n)
        });
    match handle {
        Ok(handle) => Stage::Running(Job {
            path,
            total,
            done,
            handle,
        }),
        Err(e) => {
            app.export.message = Some((format!("cannot start the export: {e}"), true));
            Stage::Idle
        }
    }
}

/// What narrows the view (filter, errors only, pane node), or None when
/// it shows every retained event.
fn view_description(app: &App) -> Option<String> {
    let mut v: Vec<String> = app.filter.iter().map(|f| f.text().to_string()).collect();
    if app.errors_only {
        v.push("errors only".into());
    }
    if let Some(node) = app.tree.describe(&app.containers) {
        v.push(node);
    }
    (!v.is_empty()).then(|| v.join("; "))
}

fn outcome(job: Job) -> (String, bool) {
    match job.handle.join() {
        Ok(Ok(n)) => (format!("wrote {n} events to {}", shown(&job.path)), false),
        Ok(Err(e)) => (format!("export failed: {e:#}"), true),
        Err(_) => ("export failed: the writer panicked".into(), true),
    }
}

/// Once per frame: picks up a finished export.
pub fn poll(app: &mut App) {
    if let Stage::Running(j) = &app.export.stage {
        if j.handle.is_finished() {
            if let Stage::Running(j) = std::mem::take(&mut app.export.stage) {
                app.export.message = Some(outcome(j));
            }
        }
    }
}

/// On the way out: a running export is completed, not cut off.
pub fn wait(app: &mut App) {
    if !matches!(app.export.stage, Stage::Running(_)) {
        return;
    }
    if let Stage::Running(j) = std::mem::take(&mut app.export.stage) {
        // The TUI has given the terminal back: the rest shows on stderr,
        // and so does how it ended.
        let after_tui = !j.handle.is_finished();
        if after_tui {
            let what = format!("writing {}", shown(&j.path));
            let mut bar = Progress::new(&what, j.total, Unit::Events);
            while bar.shown() && !j.handle.is_finished() {
                bar.set(j.done.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        let (msg, err) = outcome(j);
        if err || after_tui {
            crate::say!("systrace-tui: {msg}");
        }
        app.export.message = Some((msg, err));
    }
}

fn popup(area: Rect, h: u16) -> Rect {
    let w = 72.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let block = Block::default().borders(Borders::ALL).title(" export ");
    let text: Vec<Line> = match &app.export.stage {
        Stage::Idle => {
            if let Some((m, err)) = &app.export.message {
                let style = if *err { t.error() } else { t.ok() };
                let row = Rect {
                    y: area.y + area.height.saturating_sub(1),
                    height: 1.min(area.height),
                    ..area
                };
                f.render_widget(Clear, row);
                f.render_widget(Paragraph::new(Span::styled(m.clone(), style)), row);
            }
            return;
        }
        Stage::Running(j) => {
            let r = popup(area, 3);
            let n = j.done.load(Ordering::Relaxed).min(j.total);
            let ratio = if j.total == 0 {
                1.0
            } else {
                n as f64 / j.total as f64
            };
            f.render_widget(Clear, r);
            f.render_widget(
                Gauge::default()
                    .block(block.title(format!(" writing {} ", shown(&j.path))))
                    .ratio(ratio)
                    .label(format!("{n} / {}", j.total)),
                r,
            );
            return;
        }
        Stage::Name(s, err) => {
            let mut v = vec![Line::from(vec![
                Span::raw("file: "),
                Span::styled(format!("{}_", escape::plain(s.as_bytes(), 200)), t.header()),
            ])];
            if let Some(e) = err {
                v.push(Line::styled(e.clone(), t.error()));
            }
            v.push(Line::styled(
                "Enter: next   Esc: cancel   (.zst: compressed)",
                t.dim(),
            ));
            v
        }
        Stage::Scope(p) => {
            let all = app.store.len();
            let mut v = vec![
                Line::raw(format!("write to {}:", shown(p))),
                Line::raw(format!("  a  all retained events ({all} now)")),
            ];
            if let Some(what) = view_description(app) {
                let (first, end) = (app.store.first_seq(), app.store.end_seq());
                let n = app.list.rows.len(first, end);
                let n = if app.refilter_progress().is_some() {
                    format!("{n} found so far")
                } else {
                    format!("{n} now")
                };
                v.push(Line::raw(format!("  m  only those the view shows ({n})")));
                v.push(Line::styled(
                    format!("     {}", escape::plain(what.as_bytes(), 200)),
                    t.dim(),
                ));
            }
            v.push(Line::styled("Esc: cancel", t.dim()));
            v
        }
        Stage::Confirm(p, _) => vec![
            Line::styled(format!("{} exists.", shown(p)), t.warn()),
            Line::styled("Overwrite it? (y/n)", t.warn()),
        ],
    };
    let r = popup(area, text.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(text).block(block), r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::tui::testutil::{app_with, screen};

    /// While a `w` export runs, the TUI shows how far it got (the terminal
    /// is the TUI's: this is its progress, not a bar on stderr).
    #[test]
    fn a_running_export_shows_its_progress() {
        let (go, release) = crossbeam_channel::bounded::<()>(0);
        let done = Arc::new(AtomicU64::new(2048));
        let mut app = app_with(vec![]);
        app.export.stage = Stage::Running(Job {
            path: PathBuf::from("/tmp/s.jsonl"),
            total: 8192,
            done: done.clone(),
            handle: std::thread::spawn(move || {
                let _ = release.recv();
                Ok(8192)
            }),
        });
        let s = screen(&mut app, 120, 30);
        assert!(s.contains("writing /tmp/s.jsonl"), "{s}");
        assert!(s.contains("2048 / 8192"), "{s}");
        done.store(6144, Ordering::Relaxed);
        assert!(screen(&mut app, 120, 30).contains("6144 / 8192"));
        drop(go);
        wait(&mut app);
        assert!(
            screen(&mut app, 120, 30).contains("wrote 8192 events to /tmp/s.jsonl"),
            "the outcome replaces the gauge"
        );
    }
}
