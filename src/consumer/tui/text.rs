//! Text fitted into a width of terminal cells. A cut is always marked with
//! `…`, so a cut value never reads as a whole one.

use std::borrow::Cow;

use ratatui::text::Span;

/// Terminal cells `s` takes (wide characters count 2).
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` if it fits in `w` cells, otherwise its start and `…` in `w` cells.
pub fn fit(s: &str, w: usize) -> Cow<'_, str> {
    if width(s) <= w {
        return Cow::Borrowed(s);
    }
    if w == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::with_capacity(w + 3);
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let cw = width(&s[i..i + c.len_utf8()]);
        if used + cw > w - 1 {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// `s` if it fits in `w` cells, otherwise `…` and its end in `w` cells:
/// for names whose last part tells them apart (`ns/pod/container`).
pub fn fit_end(s: &str, w: usize) -> Cow<'_, str> {
    if width(s) <= w {
        return Cow::Borrowed(s);
    }
    if w == 0 {
        return Cow::Borrowed("");
    }
    let mut used = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let cw = width(&s[i..i + c.len_utf8()]);
        if used + cw > w - 1 {
            break;
        }
        used += cw;
        start = i;
    }
    Cow::Owned(format!("…{}", &s[start..]))
}

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as a one-line bar graph, scaled to their
/// maximum, blank where a value is 0; fewer values are drawn at the right.
pub fn sparkline<I>(values: I, width: usize) -> String
where
    I: IntoIterator<Item = u64>,
    I::IntoIter: ExactSizeIterator + Clone,
{
    let it = values.into_iter();
    let skip = it.len().saturating_sub(width);
    let vals = it.skip(skip);
    let max = vals.clone().max().unwrap_or(0);
    let mut s: String = " ".repeat(width - vals.len());
    s.extend(vals.map(|v| {
        if v == 0 || max == 0 {
            ' '
        } else {
            SPARK[((v * 8).div_ceil(max) - 1).min(7) as usize]
        }
    }));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_or_marks_the_cut() {
        assert_eq!(fit("openat", 6), "openat");
        assert_eq!(fit("openat", 5), "open…");
        assert_eq!(fit("openat", 1), "…");
        assert_eq!(fit("openat", 0), "");
        // A wide character that does not fit whole is left out.
        assert_eq!(fit("a日本", 4), "a日…");
        assert_eq!(fit("a日本", 3), "a…");
        assert_eq!(width(&fit("a日本語", 4)), 4);
    }

    #[test]
    fn fits_from_the_end_or_marks_the_cut() {
        assert_eq!(fit_end("ns/pod/web", 10), "ns/pod/web");
        assert_eq!(fit_end("ns/pod/web", 8), "…pod/web");
        assert_eq!(fit_end("ns/pod/web", 1), "…");
        assert_eq!(fit_end("ns/pod/web", 0), "");
        assert_eq!(fit_end("日本b", 4), "…本b");
        assert_eq!(fit_end("日本b", 3), "…b");
    }

    /// One scale for the statistics and the container pane: the pane's own
    /// used to draw these values as ` ▂▅█`.
    #[test]
    fn sparkline_keeps_the_last_values_on_one_scale() {
        assert_eq!(sparkline([0, 1, 4, 8], 4), " ▁▄█");
        assert_eq!(sparkline([9, 0, 1, 4, 8], 4), " ▁▄█", "the last 4");
        assert_eq!(sparkline([1, 2], 4), "  ▄█", "drawn at the right");
        assert_eq!(sparkline([0, 0], 2), "  ");
    }
}
