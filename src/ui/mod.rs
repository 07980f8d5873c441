//! The terminal front end: ratatui + crossterm.

pub mod app;
pub mod detail;
pub mod export;
pub mod help;
pub mod keys;
pub mod prompt;
pub mod rows;
pub mod stats;
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
use base64::Engine;
use crossbeam_channel::Receiver;
use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use std::io::Write;

use crate::model::event::Event;
use app::App;

/// At most ~30 frames per second.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the TUI until the user quits, `stop` is raised (signals), or the
/// event source ends. The terminal is restored on every way out, panics
/// included (ratatui's init installs a hook that restores first).
pub fn run(app: &mut App, events: &Receiver<Vec<Event>>, stop: &Arc<AtomicBool>) -> Result<()> {
    let mut terminal = ratatui::init();
    // Mouse reporting must be switched off on every way out, panics too:
    // this hook runs before ratatui's, which restores the rest.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        prev(info);
    }));
    let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    let res = event_loop(&mut terminal, app, events, stop);
    let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    // An export started with `w` is completed before the program ends.
    export::wait(app);
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
        export::poll(app);
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
                TermEvent::Mouse(m) => app.on_mouse(&m),
                _ => {}
            }
        }
        if let Some(text) = app.clipboard.take() {
            copy_osc52(&text);
        }
    }
}

/// Puts `text` on the terminal's clipboard (OSC 52); terminals that do not
/// support it ignore the sequence.
fn copy_osc52(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{b64}\x07");
    let _ = out.flush();
}
