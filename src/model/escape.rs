//! Escaping of strings chosen by traced processes. Everything that reaches a
//! terminal goes through here: control bytes, quotes, backslashes and bytes
//! outside printable ASCII come out as strace-style escapes.

use std::fmt::Write;

/// Appends `bytes` escaped like strace's `-xx`-less default: printable ASCII
/// as is, `\n \t \r \v \f \" \\`, everything else `\xNN`. Stops after
/// `max` input bytes and returns true when it did.
pub fn escape_into(out: &mut String, bytes: &[u8], max: usize) -> bool {
    let cut = bytes.len() > max;
    for &b in &bytes[..bytes.len().min(max)] {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    cut
}

/// A quoted, escaped string; `"..."` follows when it was cut short (either
/// here at `max` or earlier in the kernel, `truncated`).
pub fn quoted(bytes: &[u8], max: usize, truncated: bool) -> String {
    let mut s = String::with_capacity(bytes.len().min(max) + 2);
    quoted_into(&mut s, bytes, max, truncated);
    s
}

/// `quoted`, appended to `out`.
pub fn quoted_into(out: &mut String, bytes: &[u8], max: usize, truncated: bool) {
    out.push('"');
    let cut = escape_into(out, bytes, max);
    out.push('"');
    if cut || truncated {
        out.push_str("...");
    }
}

/// An unquoted escaped string (comm, hostnames, labels), cut with `...`.
pub fn plain(bytes: &[u8], max: usize) -> String {
    let mut s = String::with_capacity(bytes.len().min(max));
    plain_into(&mut s, bytes, max);
    s
}

/// `plain`, appended to `out`.
pub fn plain_into(out: &mut String, bytes: &[u8], max: usize) {
    if escape_into(out, bytes, max) {
        out.push_str("...");
    }
}

/// True when `s` can go to a terminal as it is.
pub fn is_safe(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// Escapes a `str` that may hold control characters (already valid UTF-8).
pub fn plain_str(s: &str, max: usize) -> String {
    if is_safe(s) && s.len() <= max {
        s.to_string()
    } else {
        plain(s.as_bytes(), max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_quotes_are_escaped() {
        assert_eq!(
            quoted(b"a\x1b[31mb\n\"\\\t\x00\xff", 100, false),
            r#""a\x1b[31mb\n\"\\\t\x00\xff""#
        );
    }

    #[test]
    fn truncation_is_marked() {
        assert_eq!(quoted(b"abcdef", 3, false), "\"abc\"...");
        assert_eq!(quoted(b"abc", 3, true), "\"abc\"...");
        assert_eq!(plain(b"abcdef", 3), "abc...");
    }

    #[test]
    fn output_never_holds_control_bytes() {
        let all: Vec<u8> = (0..=255u8).collect();
        let s = quoted(&all, 1000, false);
        assert!(s.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{s}");
        assert!(is_safe(&plain_str("x\u{202e}y\u{7}", 50)));
    }
}
