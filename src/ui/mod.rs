//! The terminal front end: ratatui + crossterm.

pub mod app;
pub mod help;
pub mod keys;
pub mod prompt;
pub mod rows;
pub mod status;
pub mod store;
pub mod stream;
#[cfg(test)]
mod testutil;
pub mod theme;
pub mod tree;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossbeam_channel::Receiver;
use crossterm::event::{self, Event as TermEvent, KeyEventKind};

use crate::model::event::Event;
use app::App;

/// At most ~30 frames per second.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the TUI until the user quits, `stop` is raised (signals), or the
/// event source ends. The terminal is restored on every way out, panics
/// included (ratatui's init installs a hook that restores first).
pub fn run(app: &mut App, events: &Receiver<Vec<Event>>, stop: &Arc<AtomicBool>) -> Result<()> {
    let mut terminal = ratatui::init();
    let res = event_loop(&mut terminal, app, events, stop);
    ratatui::restore();
    res
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    events: &Receiver<Vec<Event>>,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    let panic_knob = std::env::var_os("SYSTRACE_TEST_PANIC_UI").is_some();
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if stop.load(Ordering::Relaxed) || app.quit {
            return Ok(());
        }
        // Take what arrived, but bounded so input stays responsive under load.
        let deadline = Instant::now() + Duration::from_millis(15);
        while let Ok(batch) = events.try_recv() {
            app.ingest_batch(batch);
            if Instant::now() >= deadline {
                break;
            }
        }
        app.tick();
        if last_draw.elapsed() >= FRAME {
            terminal.draw(|f| app.render(f))?;
            last_draw = Instant::now();
            if panic_knob && app.total > 0 {
                panic!("test knob: panic in the UI thread");
            }
        }
        let wait = FRAME.saturating_sub(last_draw.elapsed());
        if event::poll(wait.max(Duration::from_millis(1)))? {
            match event::read()? {
                TermEvent::Key(k) if k.kind != KeyEventKind::Release => app.on_key(&k),
                TermEvent::Resize(..) => last_draw = Instant::now() - FRAME,
                _ => {}
            }
        }
    }
}
