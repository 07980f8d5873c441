//! The terminal front end: ratatui + crossterm.

pub mod app;
pub mod detail;
pub mod export;
pub mod help;
mod intake;
pub mod keys;
pub mod list;
pub mod overlay;
pub mod prompt;
pub mod refilter;
pub mod rows;
#[cfg(test)]
mod snapshot_tests;
pub mod stats;
pub mod status;
pub mod store;
pub mod stream;
#[cfg(test)]
mod testutil;
pub mod text;
pub mod theme;
pub mod top;
pub mod tree;
#[cfg(test)]
mod view_tests;

use std::time::{Duration, Instant};

use anyhow::Result;
use base64::Engine;
use crossbeam_channel::Receiver;
use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use std::io::Write;

use crate::model::event::Event;
use crate::model::stop::Stop;
use app::App;

/// At most ~30 frames per second.
const FRAME: Duration = Duration::from_millis(33);

/// Runs the TUI until the user quits, `stop` is raised (signals), or the
/// event source ends. The terminal is restored on every way out, panics
/// included (ratatui's init installs a hook that restores first).
pub fn run(app: &mut App, events: &Receiver<Vec<Event>>, stop: &Stop) -> Result<()> {
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
    stop: &Stop,
) -> Result<()> {
    let panic_knob = std::env::var_os("SYSTRACE_TEST_PANIC_UI").is_some();
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if stop.is_raised() || app.quit || terminal_hung_up() {
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
        // A re-filter goes on between frames, so keys are handled meanwhile.
        let filtering = app.refilter_step(refilter::REFILTER_SLICE);
        app.tick();
        export::poll(app);
        if last_draw.elapsed() >= FRAME {
            terminal.draw(|f| app.render(f))?;
            last_draw = Instant::now();
            if panic_knob && app.total > 0 {
                panic!("test knob: panic in the UI thread");
            }
        }
        let wait = if filtering {
            Duration::ZERO
        } else {
            FRAME.saturating_sub(last_draw.elapsed())
        };
        // Wait on the terminal ourselves: crossterm's poll spins forever on a
        // hung-up terminal (read() = 0) and would never return to see it.
        if wait_input(wait.max(Duration::from_millis(1))) == Input::HungUp {
            return Ok(());
        }
        // Then take what crossterm has (keys, mouse, resizes) without waiting.
        while event::poll(Duration::ZERO)? {
            match event::read()? {
                TermEvent::Key(k) if k.kind != KeyEventKind::Release => app.on_key(&k),
                TermEvent::Mouse(m) => app.on_mouse(&m),
                _ => {}
            }
            if app.quit {
                break;
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

#[derive(PartialEq, Eq)]
enum Input {
    Ready,
    Timeout,
    HungUp,
}

/// Waits up to `timeout` for terminal input. HungUp once the terminal is
/// gone (its window closed, the tmux session killed).
fn wait_input(timeout: Duration) -> Input {
    let mut fd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut fd, 1, ms) };
    if n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Input::HungUp
    } else if n > 0 {
        Input::Ready
    } else {
        Input::Timeout
    }
}

fn terminal_hung_up() -> bool {
    wait_input(Duration::ZERO) == Input::HungUp
}
