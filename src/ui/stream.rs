//! The stream view: one table row per event, newest at the bottom.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

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
        let mut row = stream_row(ev, label.as_deref(), &app.clock, &t);
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
    let mut cells = vec![
        Span::raw(clock.time_of_day(ev.start_ns)),
        Span::raw(ev.comm()),
        Span::raw(ev.pid.to_string()),
        Span::raw(ev.tid.to_string()),
        Span::styled(ev.name().into_owned(), t.class(ev.class())),
        Span::raw(a),
        Span::styled(result, result_style),
        Span::styled(
            if ev.returns() {
                fmt_duration(dur)
            } else {
                String::new()
            },
            t.duration(dur),
        ),
    ];
    if let Some(c) = container {
        cells.insert(1, Span::styled(c.to_string(), t.dim()));
    }
    Row::new(cells)
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
