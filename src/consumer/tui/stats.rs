//! The statistics tab (`s`): per syscall and per container/pod — calls,
//! errors, error rate, total and mean time, p50/p99 latency — sortable; an
//! events/s sparkline per group; the latency histogram of the selected
//! syscall.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};
use ratatui::Frame;

use super::app::App;
use super::keys::Action;
use super::text;
use crate::clock::fmt_duration;
use crate::model::stats::{Histogram, Row as StatRow, SortKey, EARLIER_GROUPS, RATE_SECONDS};

/// What the statistics tab shows: its sort order and selected row.
#[derive(Debug, Default)]
pub struct StatsView {
    pub sort: SortKey,
    pub reverse: bool,
    /// Selected row of the per-syscall table.
    pub selected: usize,
}

/// What a key did on the statistics tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsKey {
    Done,
    /// Back to the stream.
    Leave,
    /// Not a key of this tab: the stream's keys apply.
    Pass,
}

impl StatsView {
    /// A key on the statistics tab; `page` is the rows drawn last.
    pub fn on_action(&mut self, a: Action, page: usize) -> StatsKey {
        match a {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected += 1,
            Action::PageUp => self.selected = self.selected.saturating_sub(page),
            Action::PageDown => self.selected += page,
            Action::Top => self.selected = 0,
            Action::SortNext => {
                self.sort = self.sort.next();
                self.selected = 0;
            }
            Action::SortReverse => self.reverse = !self.reverse,
            Action::Stats | Action::Close => return StatsKey::Leave,
            Action::Details => {}
            _ => return StatsKey::Pass,
        }
        StatsKey::Done
    }
}

/// Histogram rows merged by power of two: `(low, high, count)`.
pub fn octaves(h: &Histogram) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> = Vec::new();
    for (lo, _hi, c) in h.buckets() {
        let o = if lo == 0 { 0 } else { 63 - lo.leading_zeros() };
        let low = if lo == 0 { 0 } else { 1u64 << o };
        let high = 1u64.checked_shl(o + 1).unwrap_or(u64::MAX).max(1);
        match out.last_mut() {
            Some(last) if last.0 == low => last.2 += c,
            _ => out.push((low, high, c)),
        }
    }
    out
}

fn header_cell(label: &'static str, key: SortKey, app: &App) -> String {
    if app.stats_view.sort == key {
        format!("{label}{}", if app.stats_view.reverse { "▲" } else { "▼" })
    } else {
        label.to_string()
    }
}

fn stat_cells(r: &StatRow) -> [String; 7] {
    [
        r.calls.to_string(),
        r.errors.to_string(),
        format!("{:.1}%", 100.0 * r.error_rate()),
        fmt_duration(r.total_ns),
        fmt_duration(r.mean_ns()),
        fmt_duration(r.p50()),
        fmt_duration(r.p99()),
    ]
}

/// The per-syscall table's columns: header, sort key, and the order in
/// which they get room (the name and counts first, then the times).
const SYSCALL_COLS: [(&str, SortKey); 8] = [
    ("SYSCALL", SortKey::Name),
    ("CALLS", SortKey::Calls),
    ("ERRORS", SortKey::Errors),
    ("ERR%", SortKey::ErrorRate),
    ("TOTAL", SortKey::Total),
    ("MEAN", SortKey::Mean),
    ("P50", SortKey::P50),
    ("P99", SortKey::P99),
];
const SYSCALL_PRIORITY: [usize; 8] = [0, 1, 2, 3, 7, 4, 5, 6];

/// Which per-syscall columns fit in `avail` cells (one between columns),
/// each at the width it wants: a column that does not fit whole is left
/// out, later ones too, so no value loses its unit.
/// The column the table is sorted by comes right after the name.
fn fit_columns(avail: usize, want: &[usize; 8], sort: SortKey) -> [bool; 8] {
    let mut on = [false; 8];
    let mut used = 0;
    let sorted = SYSCALL_COLS.iter().position(|&(_, k)| k == sort);
    let order = sorted
        .into_iter()
        .chain(SYSCALL_PRIORITY.into_iter().filter(|&i| Some(i) != sorted));
    let order: Vec<usize> = std::iter::once(0)
        .chain(order.filter(|&i| i != 0))
        .collect();
    for i in order {
        let gap = usize::from(used > 0);
        if used + gap + want[i] > avail {
            break;
        }
        used += gap + want[i];
        on[i] = true;
    }
    on
}

pub fn render(app: &mut App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let rows = app
        .stats
        .syscall_rows(app.stats_view.sort, app.stats_view.reverse);
    let texts: Vec<[String; 8]> = rows
        .iter()
        .map(|(name, r)| {
            let [calls, errs, rate, total, mean, p50, p99] = stat_cells(r);
            [name.clone(), calls, errs, rate, total, mean, p50, p99]
        })
        .collect();
    let headers: Vec<String> = SYSCALL_COLS
        .iter()
        .map(|&(label, key)| header_cell(label, key, app))
        .collect();
    let mut want: [usize; 8] = std::array::from_fn(|i| text::width(&headers[i]));
    for row in &texts {
        for (w, s) in want.iter_mut().zip(row) {
            *w = (*w).max(text::width(s));
        }
    }
    // The per-syscall table gets what it needs, within 40-58% of the width;
    // the groups and the histogram the rest.
    let need = want.iter().sum::<usize>() + 7 + 2;
    let left_w = (need as u16).clamp(area.width * 2 / 5, area.width * 29 / 50);
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(1)]).areas(area);
    let [groups_area, hist_area] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
    app.page = left.height.saturating_sub(3).max(1) as u64;

    if !rows.is_empty() {
        app.stats_view.selected = app.stats_view.selected.min(rows.len() - 1);
    }
    let sel = app.stats_view.selected;
    let on = fit_columns(
        left.width.saturating_sub(2) as usize,
        &want,
        app.stats_view.sort,
    );
    let visible = left.height.saturating_sub(3) as usize;
    let skip = (sel + 1).saturating_sub(visible);
    let table_rows: Vec<Row> =
        rows.iter()
            .zip(texts)
            .enumerate()
            .skip(skip)
            .take(visible)
            .map(|(i, ((_, r), cells))| {
                let err_style = if r.errors > 0 {
                    t.error()
                } else {
                    Default::default()
                };
                let cells = cells.into_iter().enumerate().filter(|&(c, _)| on[c]).map(
                    |(c, text)| match c {
                        2 | 3 => Span::styled(text, err_style),
                        7 => Span::styled(text, t.duration(r.p99())),
                        _ => Span::raw(text),
                    },
                );
                let row = Row::new(cells);
                if i == sel {
                    row.style(t.selected())
                } else {
                    row
                }
            })
            .collect();
    let header = Row::new(
        headers
            .into_iter()
            .enumerate()
            .filter(|&(c, _)| on[c])
            .map(|(_, h)| h),
    )
    .style(t.header());
    let widths = (0..8)
        .filter(|&c| on[c])
        .map(|c| Constraint::Length(want[c] as u16));
    let title = format!(
        " per syscall: {} events, sorted by {} (o: next column, O: reverse) ",
        app.stats.events,
        app.stats_view.sort.label()
    );
    f.render_widget(
        Table::new(table_rows, widths)
            .header(header)
            .block(Block::default().borders(Borders::ALL).title(title)),
        left,
    );

    // Groups: container / pod, with their events/s over the last minute.
    // Names get the room they need; the sparkline takes what is left.
    let groups = app
        .stats
        .group_rows(app.stats_view.sort, app.stats_view.reverse);
    let shown_groups = groups_area.height.saturating_sub(3) as usize;
    let labels: Vec<String> = groups
        .iter()
        .take(shown_groups)
        .map(|(name, _)| {
            if *name == EARLIER_GROUPS {
                format!("({} earlier groups)", app.stats.folded_groups)
            } else {
                name.to_string()
            }
        })
        .collect();
    let cells: Vec<[String; 3]> = groups
        .iter()
        .take(shown_groups)
        .map(|(_, g)| {
            [
                g.row.calls.to_string(),
                format!("{:.1}%", 100.0 * g.row.error_rate()),
                fmt_duration(g.row.p99()),
            ]
        })
        .collect();
    let mut num_w = ["CALLS", "ERR%", "P99"].map(text::width);
    for c in &cells {
        for (w, s) in num_w.iter_mut().zip(c) {
            *w = (*w).max(text::width(s));
        }
    }
    let fixed = num_w.iter().sum::<usize>() + 4; // and the gaps
    const SPARK_MIN: usize = 4; // "EV/S"
    let inner = (groups_area.width as usize).saturating_sub(2);
    let name_want = labels
        .iter()
        .map(|l| text::width(l))
        .max()
        .unwrap_or(0)
        .max(text::width("GROUP"));
    // Names that would be cut take the sparkline's room first: the end of
    // a name tells two containers of one pod apart, a rate graph does not.
    let spark_w = if inner >= fixed + name_want + SPARK_MIN {
        (inner - fixed - name_want).min(RATE_SECONDS)
    } else {
        0
    };
    // Without a sparkline, its gap goes to the names too.
    let name_w = inner.saturating_sub(fixed + spark_w) + usize::from(spark_w == 0);
    let group_rows: Vec<Row> = groups
        .iter()
        .zip(&labels)
        .zip(cells)
        .map(|(((_, g), label), [calls, rate, p99])| {
            let series = g.rate.series(app.stats.last_sec);
            let tail = &series[series.len() - spark_w..];
            let mut cells = vec![
                Span::raw(text::fit_end(label, name_w).into_owned()),
                Span::raw(calls),
                Span::raw(rate),
                Span::raw(p99),
            ];
            if spark_w > 0 {
                cells.push(Span::styled(
                    text::sparkline(tail.iter().copied(), spark_w),
                    t.ok(),
                ));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![name_w, num_w[0], num_w[1], num_w[2]];
    let mut heads = vec!["GROUP", "CALLS", "ERR%", "P99"];
    if spark_w > 0 {
        widths.push(spark_w);
        heads.push(if spark_w >= 8 { "EVENTS/S" } else { "EV/S" });
    }
    f.render_widget(
        Table::new(
            group_rows,
            widths.into_iter().map(|w| Constraint::Length(w as u16)),
        )
        .header(Row::new(heads).style(t.header()))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" per container / pod "),
        ),
        groups_area,
    );

    // Latency histogram of the selected syscall.
    let (title, lines) = match rows.get(sel) {
        Some((name, r)) => {
            let oct = octaves(&r.latency);
            let max = oct.iter().map(|o| o.2).max().unwrap_or(1).max(1);
            let bar_w = (hist_area.width as usize).saturating_sub(32).max(4);
            let lines: Vec<Line> = oct
                .iter()
                .map(|&(lo, hi, c)| {
                    let n = ((c as f64 / max as f64) * bar_w as f64).ceil() as usize;
                    Line::from(vec![
                        Span::raw(format!(
                            "{:>8} - {:<8} ",
                            fmt_duration(lo),
                            fmt_duration(hi)
                        )),
                        Span::styled("█".repeat(n.max(1)), t.duration(lo)),
                        Span::raw(format!(" {c}")),
                    ])
                })
                .collect();
            (format!(" latency of {name} "), lines)
        }
        None => (" latency ".to_string(), vec![Line::raw("no events yet")]),
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        hist_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::tui::keys::Action;
    use crate::consumer::tui::testutil::{app_with, event, screen};

    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(text::sparkline([0, 1, 4, 8], 4), " ▁▄█");
        assert_eq!(text::sparkline([0, 0], 2), "  ");
    }

    #[test]
    fn stats_tab_shows_tables_sorting_and_histogram() {
        let mut evs = vec![];
        for i in 0..3 {
            evs.push(event("openat", "cat", 10 + i, -2, Some("/x")));
        }
        evs.push(event("openat", "cat", 20, 3, Some("/y")));
        evs.push(event("getppid", "sh", 30, 1, None));
        let mut app = app_with(evs);
        app.on_action(Action::Stats);
        let s = screen(&mut app, 160, 30);
        assert!(s.contains("per syscall: 5 events"), "{s}");
        let open = s
            .lines()
            .find(|l| l.contains("│openat"))
            .unwrap_or_else(|| panic!("{s}"));
        let cols: Vec<&str> = open.split_whitespace().collect();
        // name, calls, errors, error rate
        assert!(
            cols[0].ends_with("openat") && cols[1] == "4" && cols[2] == "3",
            "{open}"
        );
        assert!(open.contains("75.0%"), "{open}");
        assert!(
            s.contains("per container / pod") && s.contains("host"),
            "{s}"
        );
        assert!(s.contains("latency of openat") && s.contains("█ 4"), "{s}");
        // Sort by calls, then reversed: getppid first.
        app.on_action(Action::SortNext);
        assert_eq!(app.stats_view.sort, SortKey::Calls);
        app.on_action(Action::SortReverse);
        let s = screen(&mut app, 160, 30);
        assert!(s.contains("CALLS▲"), "{s}");
        assert!(s.contains("latency of getppid"), "{s}");
        app.on_action(Action::Stats);
        assert!(
            screen(&mut app, 160, 30).contains("SYSCALL "),
            "back to the stream"
        );
    }
}
