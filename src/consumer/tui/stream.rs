//! The stream view: one table row per event, newest at the bottom.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;
use regex::Regex;

use super::app::App;
use super::text;
use super::theme::Theme;
use crate::consumer::line::Fields;
use crate::terminal::palette::Piece;

/// The table's columns, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Time,
    Container,
    Comm,
    Pid,
    Tid,
    Syscall,
    Args,
    Result,
    Duration,
}

const COLS: [Col; 9] = [
    Col::Time,
    Col::Container,
    Col::Comm,
    Col::Pid,
    Col::Tid,
    Col::Syscall,
    Col::Args,
    Col::Result,
    Col::Duration,
];

/// Which columns get room first when the terminal is narrow. The call, its
/// result and its duration are never cut (a cut unit or errno misleads);
/// arguments come next, then who made the call.
const PRIORITY: [Col; 9] = [
    Col::Syscall,
    Col::Result,
    Col::Duration,
    Col::Args,
    Col::Comm,
    Col::Pid,
    Col::Container,
    Col::Time,
    Col::Tid,
];

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Time => "TIME",
            Col::Container => "CONTAINER",
            Col::Comm => "COMM",
            Col::Pid => "PID",
            Col::Tid => "TID",
            Col::Syscall => "SYSCALL",
            Col::Args => "ARGS",
            Col::Result => "RESULT",
            Col::Duration => "DURATION",
        }
    }

    /// The narrowest a column is shown at; below its content's width only
    /// text columns go, and they mark the cut.
    fn min(self, want: usize) -> usize {
        match self {
            Col::Args => want.min(16),
            Col::Comm => want.min(8),
            Col::Container => want.min(12),
            _ => want,
        }
    }

    /// How wide a column grows before ARGS gets the rest.
    fn max(self, want: usize) -> usize {
        match self {
            Col::Container => want.min(48),
            _ => want,
        }
    }
}

/// Column widths for a table `avail` cells wide (one cell between
/// columns), from the widths their contents want. Columns are taken in
/// priority order while their minimum fits; then ARGS grows to a useful
/// width, COMM and CONTAINER to what they want, and ARGS takes the rest. None: the column is left out.
fn layout(avail: usize, want: &[usize; 9], shown: impl Fn(Col) -> bool) -> [Option<usize>; 9] {
    let mut w: [Option<usize>; 9] = [None; 9];
    let mut used = 0;
    for c in PRIORITY.into_iter().filter(|&c| shown(c)) {
        let i = c as usize;
        let gap = usize::from(used > 0);
        let need = c.min(want[i]);
        if used + gap + need > avail {
            break;
        }
        used += gap + need;
        w[i] = Some(need);
    }
    let mut spare = avail - used;
    let mut grow = |c: Col, to: usize, spare: &mut usize| {
        if let Some(cur) = &mut w[c as usize] {
            let more = to.saturating_sub(*cur).min(*spare);
            *cur += more;
            *spare -= more;
        }
    };
    grow(
        Col::Args,
        want[Col::Args as usize].min(ARGS_ROOMY),
        &mut spare,
    );
    grow(
        Col::Comm,
        Col::Comm.max(want[Col::Comm as usize]),
        &mut spare,
    );
    let ctr = Col::Container.max(want[Col::Container as usize]);
    grow(Col::Container, ctr, &mut spare);
    grow(Col::Args, usize::MAX, &mut spare);
    w
}

/// ARGS grows to this before COMM and CONTAINER grow: most calls' arguments
/// fit in it.
const ARGS_ROOMY: usize = 40;

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let rows_avail = area.height.saturating_sub(1) as usize; // minus header row
    app.page = rows_avail.max(1) as u64;
    app.list.area = area;
    let first = app.store.first_seq();
    let end = app.store.end_seq();
    let n = app.list.rows.len(first, end);
    let cur = app.current();
    let cur_idx = app.list.rows.index_of(first, cur);
    // Keep the selection visible with as little scrolling as possible.
    let mut top = app.list.rows.index_of(first, app.list.top.max(first));
    if cur_idx < top {
        top = cur_idx;
    }
    if rows_avail > 0 && cur_idx >= top + rows_avail {
        top = cur_idx + 1 - rows_avail;
    }
    // No blank lines below the last row while rows above it are hidden: a
    // re-filter finds the newest rows first and puts older ones in front,
    // so a top taken from the rows found so far would otherwise stay on
    // the newest row with the page empty below it.
    top = top.min(n.saturating_sub(rows_avail));
    app.list.top = app.list.rows.seq_at(first, end, top).unwrap_or(first);
    let with_ctr = app.shows_containers();
    let mut shown = Vec::with_capacity(rows_avail);
    for seq in app.list.rows.seqs_from(first, end, top).take(rows_avail) {
        let Some(ev) = app.store.get(seq) else { break };
        let label = with_ctr
            .then(|| crate::model::node::with_node(ev.node, app.labels.label(ev.id.cgroup_id)));
        shown.push((seq, Fields::of(ev, &app.clock, label).cells()));
    }
    let mut want = COLS.map(|c| text::width(c.name()));
    for (_, cells) in &shown {
        for (w, p) in want.iter_mut().zip(cells) {
            *w = (*w).max(text::width(&p.text));
        }
    }
    let widths = layout(area.width as usize, &want, |c| {
        c != Col::Container || with_ctr
    });
    let cols: Vec<(usize, usize)> = COLS
        .iter()
        .filter_map(|&c| widths[c as usize].map(|w| (c as usize, w)))
        .collect();
    let mut rows = Vec::with_capacity(shown.len());
    for (seq, cells) in &shown {
        let mut row = stream_row(cells, &cols, &t, app.list.search.as_ref());
        if *seq == cur && n > 0 {
            row = row.style(t.selected());
        }
        rows.push(row);
    }
    let header = Row::new(cols.iter().map(|&(i, _)| COLS[i].name())).style(t.header());
    let constraints = cols.iter().map(|&(_, w)| Constraint::Length(w as u16));
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// One row of the event table: `cells` fitted to the `cols` shown (index,
/// width).
fn stream_row<'a>(
    cells: &[Piece; 9],
    cols: &[(usize, usize)],
    t: &Theme,
    search: Option<&Regex>,
) -> Row<'a> {
    let hl = t.search_match();
    let cells = cols.iter().map(|&(i, w)| {
        let p = &cells[i];
        // A container label is cut at its start: its end (pod/container)
        // tells two containers of one pod apart.
        let fitted = match COLS[i] {
            Col::Container => text::fit_end(&p.text, w),
            _ => text::fit(&p.text, w),
        };
        highlighted(fitted.into_owned(), t.style(p.class), search, hl)
    });
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
    use crate::consumer::tui::keys::Action;
    use crate::consumer::tui::testutil::{app_with, event, screen};

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
            app.selected_event().unwrap().id.pid,
            11,
            "follow selects the newest"
        );
        app.on_action(Action::Up);
        assert_eq!(app.selected_event().unwrap().id.pid, 10);
        assert!(!app.list.follow);
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
        assert_eq!(app.selected_event().unwrap().id.pid, 107);
    }
}

#[cfg(test)]
mod feature_tests {
    use crossterm::event::{
        KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
    };

    use crate::consumer::tui::keys::Action;
    use crate::consumer::tui::testutil::{app_with, event, key, screen, typ};

    fn enter(app: &mut crate::consumer::tui::app::App) {
        key(app, KeyCode::Enter);
    }

    fn sample() -> crate::consumer::tui::app::App {
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
            app.selected_event().unwrap().id.pid,
            10,
            "the selected line matches"
        );
        app.on_action(Action::NextMatch);
        assert_eq!(app.selected_event().unwrap().id.pid, 12);
        app.on_action(Action::NextMatch);
        assert_eq!(app.selected_event().unwrap().id.pid, 12, "no later match");
        assert!(app
            .message
            .as_deref()
            .unwrap_or("")
            .contains("no later match"));
        app.on_action(Action::PrevMatch);
        assert_eq!(app.selected_event().unwrap().id.pid, 10);
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
        assert_eq!(app.selected_event().unwrap().id.pid, 12);
        // Row 2 of the screen is the first event (header line, table header).
        app.on_mouse(&wheel(MouseEventKind::Down(MouseButton::Left)).clone());
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 20,
            row: 2,
            modifiers: KeyModifiers::NONE,
        };
        app.on_mouse(&click);
        assert_eq!(app.selected_event().unwrap().id.pid, 10);
        assert!(!app.list.follow);
    }
}
