//! A strict, minimal JSON scanner for the replay's fast path: it reads the
//! compact JSON this tool writes and answers `None` at anything else
//! (whitespace, escapes, odd numbers), leaving such input to serde_json.
//! Pure: no I/O.

/// Nesting deeper than this is left to serde_json.
const MAX_DEPTH: u32 = 32;

pub struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Cursor<'a> {
        Cursor {
            s,
            b: s.as_bytes(),
            i: 0,
        }
    }

    pub fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Consumes `s` if the input continues with it.
    #[inline(always)]
    pub fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b[self.i..].starts_with(s) {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    /// A non-negative integer as JSON writes it (no sign, no leading zero,
    /// no fraction or exponent), that fits in a u64.
    pub fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(v)
    }

    pub fn int(&mut self) -> Option<i64> {
        if self.lit(b"-").is_some() {
            // serde_json reads `-0` as a float, which no integer field takes.
            0i64.checked_sub_unsigned(self.uint().filter(|&v| v != 0)?)
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// A string with no escapes and no control characters, borrowed.
    /// Consumes nothing when the input is not one.
    pub fn plain_str(&mut self) -> Option<&'a str> {
        let rest = self.b[self.i..].strip_prefix(b"\"")?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        let s = &rest[..end];
        if rest[end] != b'"' || s.iter().any(|&c| c < 0x20) {
            return None;
        }
        // Cut at ASCII quotes: always on character boundaries.
        let s = self.s.get(self.i + 1..self.i + 1 + end)?;
        self.i += end + 2;
        Some(s)
    }

    /// Checks one JSON value and steps over it.
    pub fn skip_value(&mut self) -> Option<()> {
        self.skip(0)
    }

    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.plain_str().map(drop),
            b'{' => {
                self.i += 1;
                if self.lit(b"}").is_some() {
                    return Some(());
                }
                loop {
                    self.plain_str()?;
                    self.lit(b":")?;
                    self.skip(depth + 1)?;
                    if self.lit(b",").is_none() {
                        return self.lit(b"}");
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.lit(b"]").is_some() {
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if self.lit(b",").is_none() {
                        return self.lit(b"]");
                    }
                }
            }
            b'n' => self.lit(b"null"),
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.lit(b"-");
        let digits = |c: &mut Cursor<'_>| {
            let start = c.i;
            while c.peek().is_some_and(|d| d.is_ascii_digit()) {
                c.i += 1;
            }
            (c.i > start).then_some(start)
        };
        let start = digits(self)?;
        if self.i - start > 1 && self.b[start] == b'0' {
            return None;
        }
        if self.lit(b".").is_some() {
            digits(self)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            digits(self)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(s: &str) -> bool {
        let mut c = Cursor::new(s);
        c.skip_value().is_some() && c.at_end()
    }

    #[test]
    fn accepts_only_what_serde_json_accepts() {
        for ok in [
            "null",
            "true",
            "0",
            "-0",
            "12.5e-3",
            "1E+9",
            r#""é x""#,
            r#"{"a":[1,{"b":null}],"c":"d"}"#,
            "[]",
            "{}",
        ] {
            assert!(skips(ok), "{ok}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(ok).is_ok());
        }
        // Rejected here; serde_json decides (some are fine JSON, some not).
        for no in [
            "",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "nul",
            "[1,]",
            "{,}",
            r#"{"a"}"#,
            r#"{"a":1,}"#,
            "[1 ]",
            r#""a\nb""#,
            "\"a\u{1}\"",
            "\"open",
            "{\"a\":1",
            "+1",
        ] {
            assert!(!skips(no), "{no}");
        }
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(!skips(&deep));
    }

    #[test]
    fn integers() {
        let u = |s: &str| Cursor::new(s).uint();
        let i = |s: &str| Cursor::new(s).int();
        assert_eq!(u("0"), Some(0));
        assert_eq!(u("18446744073709551615"), Some(u64::MAX));
        assert_eq!(u("18446744073709551616"), None);
        assert_eq!(u("007"), None);
        assert_eq!(u("1.5"), None);
        assert_eq!(u("-1"), None);
        assert_eq!(i("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(i("-9223372036854775809"), None);
        assert_eq!(i("9223372036854775808"), None);
        assert_eq!(i("-2"), Some(-2));
        assert_eq!(i("-0"), None);
        assert!(serde_json::from_str::<i64>("-0").is_err());
    }
}
