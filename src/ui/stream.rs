//! The stream view: one table row per event, newest at the bottom.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;
use regex::Regex;

use super::app::App;
use super::theme::Theme;
use crate::clock::{fmt_duration, Clock};
use crate::model::args;
use crate::model::event::TraceEvent;

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let rows_avail = area.height.saturating_sub(1) as usize; // minus header row
    app.page = rows_avail.max(1) as u64;
    app.stream_area = area;
    let first = app.store.first_seq();
    let end = app.store.end_seq();
    let n = app.rows.len(first, end);
    let cur = app.current();
    let cur_idx = app.rows.index_of(first, cur);
    // Keep the selection visible with as little scrolling as possible.
    let mut top = app.rows.index_of(first, app.top.max(first));
    if cur_idx < top {
        top = cur_idx;
    }
    if rows_avail > 0 && cur_idx >= top + rows_avail {
        top = cur_idx + 1 - rows_avail;
    }
    app.top = app.rows.seq_at(first, end, top).unwrap_or(first);
    let with_ctr = app.shows_containers();
    let mut rows = Vec::with_capacity(rows_avail);
    for seq in app.rows.seqs_from(first, end, top).take(rows_avail) {
        let Some(ev) = app.store.get(seq) else { break };
        let label = with_ctr.then(|| app.containers.label(ev.cgroup_id));
        let mut row = stream_row(ev, label.as_deref(), &app.clock, &t, app.search.as_ref());
        if seq == cur && n > 0 {
            row = row.style(t.selected());
        }
        rows.push(row);
    }
    let mut widths = vec![
        Constraint::Length(15),
        Constraint::Length(16),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Length(14),
        Constraint::Length(9),
    ];
    let mut names = vec![
        "TIME", "COMM", "PID", "TID", "SYSCALL", "ARGS", "RESULT", "DURATION",
    ];
    if with_ctr {
        widths.insert(1, Constraint::Length(24));
        names.insert(1, "CONTAINER");
    }
    let header = Row::new(names).style(t.header());
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    f.render_widget(table, area);
}

/// One row of the event table. Every string from the traced process is
/// escaped by the model's formatters before it gets here.
/// `container`: the container column's label, when the column is shown.
pub fn stream_row<'a>(
    ev: &TraceEvent,
    container: Option<&str>,
    clock: &Clock,
    t: &Theme,
    search: Option<&Regex>,
) -> Row<'a> {
    let mut a = String::new();
    args::format_args(ev, &mut a);
    let result = args::format_result(ev);
    let result_style = if ev.errno().is_some() {
        t.error()
    } else {
        t.ok()
    };
    let dur = ev.duration_ns();
    let dur_text = if ev.returns() {
        fmt_duration(dur)
    } else {
        String::new()
    };
    let hl = t.search_match();
    let cell = |text: String, style: Style| highlighted(text, style, search, hl);
    let mut cells = vec![
        cell(clock.time_of_day(ev.start_ns), Style::default()),
        cell(ev.comm(), Style::default()),
        cell(ev.pid.to_string(), Style::default()),
        cell(ev.tid.to_string(), Style::default()),
        cell(ev.name().into_owned(), t.class(ev.class())),
        cell(a, Style::default()),
        cell(result, result_style),
        cell(dur_text, t.duration(dur)),
    ];
    if let Some(c) = container {
        cells.insert(1, cell(c.to_string(), t.dim()));
    }
    Row::new(cells)
}

/// A cell whose search matches are drawn in `hl`.
fn highlighted<'a>(text: String, style: Style, search: Option<&Regex>, hl: Style) -> Cell<'a> {
    let Some(re) = search else {
        return Cell::from(Span::styled(text, style));
    };
    let mut spans = Vec::new();
    let mut at = 0;
    for m in re.find_iter(&text) {
        if m.start() == m.end() {
            continue;
        }
        if m.start() > at {
            spans.push(Span::styled(text[at..m.start()].to_string(), style));
        }
        spans.push(Span::styled(text[m.start()..m.end()].to_string(), hl));
        at = m.end();
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), style));
    }
    Cell::from(Line::from(spans))
}

#[cfg(test)]
mod tests {
    use crate::ui::keys::Action;
    use crate::ui::testutil::{app_with, event, screen};

    #[test]
    fn rows_show_decoded_calls_and_the_selection_follows() {
        let mut app = app_with(vec![
            event("openat", "cat", 10, -2, Some("/etc/nope")),
            event("getppid", "sh", 11, 7, None),
        ]);
        let s = screen(&mut app, 120, 8);
        let lines: Vec<&str> = s.lines().collect();
        assert!(
            lines[1].contains("TIME") && lines[1].contains("SYSCALL"),
            "{s}"
        );
        assert!(
            lines[2].contains("cat") && lines[2].contains("openat"),
            "{s}"
        );
        assert!(
            lines[2].contains("\"/etc/nope\"") && lines[2].contains("-1 ENOENT"),
            "{s}"
        );
        assert!(
            lines[3].contains("getppid") && lines[3].contains(" 7 "),
            "{s}"
        );
        assert_eq!(
            app.selected_event().unwrap().pid,
            11,
            "follow selects the newest"
        );
        app.on_action(Action::Up);
        assert_eq!(app.selected_event().unwrap().pid, 10);
        assert!(!app.follow);
    }

    #[test]
    fn scrolls_to_keep_the_selection_visible() {
        let evs = (0..50)
            .map(|i| event("getppid", "sh", 100 + i, 1, None))
            .collect();
        let mut app = app_with(evs);
        // 10 lines: header, table header, 7 rows, footer.
        let s = screen(&mut app, 100, 10);
        assert!(s.contains("149") && !s.contains(" 142 "), "{s}");
        app.on_action(Action::Top);
        let s = screen(&mut app, 100, 10);
        assert!(s.contains(" 100 ") && !s.contains(" 149 "), "{s}");
        app.on_action(Action::PageDown);
        assert_eq!(app.selected_event().unwrap().pid, 107);
    }
}

#[cfg(test)]
mod feature_tests {
    use crossterm::event::{
        KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
    };

    use crate::ui::keys::Action;
    use crate::ui::testutil::{app_with, event, screen};

    fn typ(app: &mut crate::ui::app::App, text: &str) {
        for c in text.chars() {
            app.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    fn enter(app: &mut crate::ui::app::App) {
        app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    }

    fn sample() -> crate::ui::app::App {
        app_with(vec![
            event("openat", "cat", 10, -2, Some("/etc/nope")),
            event("getppid", "sh", 11, 7, None),
            event("openat", "cat", 12, 3, Some("/etc/passwd")),
            event("getppid", "sh", 13, 7, None),
        ])
    }

    #[test]
    fn filter_prompt_shows_the_error_column_then_filters_the_rows() {
        let mut app = sample();
        app.on_action(Action::Filter);
        typ(&mut app, "syscall == opnat");
        let s = screen(&mut app, 160, 12);
        let lines: Vec<&str> = s.lines().collect();
        let input = lines
            .iter()
            .position(|l| l.starts_with("filter: syscall == opnat"))
            .unwrap_or_else(|| panic!("{s}"));
        let caret = lines[input + 1];
        // "filter: " is 8 wide; the value starts at column 12 of the input.
        assert_eq!(caret.find('^'), Some(8 + 11), "{s}");
        assert!(caret.contains("unknown syscall `opnat`"), "{s}");
        // Enter on a mistake keeps the prompt open.
        enter(&mut app);
        assert!(app.prompt.is_some());
        app.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        typ(&mut app, "syscall == openat and errno != 0");
        assert!(app.prompt.as_ref().unwrap().error.is_none());
        enter(&mut app);
        assert!(app.prompt.is_none());
        let s = screen(&mut app, 160, 12);
        assert!(
            s.contains("/etc/nope") && !s.contains("/etc/passwd") && !s.contains("getppid"),
            "{s}"
        );
        assert!(
            s.contains("filter: syscall == openat and errno != 0") && s.contains("(1 shown)"),
            "{s}"
        );
        // An empty filter shows everything again.
        app.on_action(Action::Filter);
        app.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        enter(&mut app);
        assert_eq!(app.row_count(), 4);
    }

    #[test]
    fn errors_only_toggles_and_new_events_are_filtered_too() {
        let mut app = sample();
        app.on_action(Action::ErrorsOnly);
        assert_eq!(app.row_count(), 1);
        app.ingest(crate::model::event::Event::Syscall(event(
            "openat",
            "ls",
            14,
            -13,
            Some("/root/x"),
        )));
        app.ingest(crate::model::event::Event::Syscall(event(
            "getppid", "ls", 14, 1, None,
        )));
        let s = screen(&mut app, 160, 12);
        assert!(
            s.contains("errors only") && s.contains("EACCES") && !s.contains("getppid"),
            "{s}"
        );
        app.on_action(Action::ErrorsOnly);
        assert_eq!(app.row_count(), 6);
    }

    #[test]
    fn search_jumps_between_matches_and_highlights_them() {
        let mut app = sample();
        app.on_action(Action::Top);
        app.on_action(Action::Search);
        typ(&mut app, "passwd|nope");
        enter(&mut app);
        assert_eq!(
            app.selected_event().unwrap().pid,
            10,
            "the selected line matches"
        );
        app.on_action(Action::NextMatch);
        assert_eq!(app.selected_event().unwrap().pid, 12);
        app.on_action(Action::NextMatch);
        assert_eq!(app.selected_event().unwrap().pid, 12, "no later match");
        assert!(app
            .message
            .as_deref()
            .unwrap_or("")
            .contains("no later match"));
        app.on_action(Action::PrevMatch);
        assert_eq!(app.selected_event().unwrap().pid, 10);
        // The match is drawn in the search style (underlined).
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 12)).unwrap();
        term.draw(|f| app.render(f)).unwrap();
        let buf = term.backend().buffer();
        let (x, y) = (0..12u16)
            .flat_map(|y| (0..150u16).map(move |x| (x, y)))
            .find(|&(x, y)| {
                buf[(x, y)].symbol() == "p"
                    && (1..6)
                        .all(|i| buf[(x + i, y)].symbol() == &"passwd"[i as usize..=i as usize])
            })
            .expect("passwd on screen");
        assert!(buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::UNDERLINED));
        assert!(!buf[(0, y)]
            .modifier
            .contains(ratatui::style::Modifier::UNDERLINED));
    }

    #[test]
    fn mouse_wheel_scrolls_and_a_click_selects() {
        let mut app = sample();
        screen(&mut app, 160, 12);
        let wheel = |kind| MouseEvent {
            kind,
            column: 5,
            row: 5,
            modifiers: KeyModifiers::NONE,
        };
        app.on_mouse(&wheel(MouseEventKind::ScrollUp));
        assert_eq!(app.selected_event().unwrap().pid, 12);
        // Row 2 of the screen is the first event (header line, table header).
        app.on_mouse(&wheel(MouseEventKind::Down(MouseButton::Left)).clone());
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 20,
            row: 2,
            modifiers: KeyModifiers::NONE,
        };
        app.on_mouse(&click);
        assert_eq!(app.selected_event().unwrap().pid, 10);
        assert!(!app.follow);
    }
}
