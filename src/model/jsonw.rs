//! JSON written straight into a byte buffer: the export format's per-event
//! path, which must not build a `serde_json::Value` (and its allocations)
//! for every syscall. The bytes are the ones serde_json itself writes.

use super::escape;

/// A JSON string, escaped exactly as serde_json escapes it.
#[inline]
pub fn str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    // Most strings need no escape: copy them in one piece.
    if b.iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.reserve(b.len() + 2);
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[inline]
pub fn uint(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[inline]
pub fn int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `"0x1f"`: Rust's `{:#x}`, so zero is `"0x0"`.
pub fn hex_str(out: &mut Vec<u8>, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = DIGITS[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(b"\"0x");
    out.extend_from_slice(&buf[i..]);
    out.push(b'"');
}

/// Bytes from a traced process as `decode::json_bytes` renders them: UTF-8
/// as is, anything else in strace's escaped form.
pub fn bytes_str(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => str(out, s),
        Err(_) => str(out, &escape::plain(b, usize::MAX)),
    }
}

/// A list of `"0x.."`/name strings, numbers or anything else, comma-separated.
pub fn list<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (k, it) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        item(out, it);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn same_bytes_as_serde_json() {
        for t in [
            "",
            "plain",
            "a\"b\\c",
            "\u{0}\u{1f}\n\t\u{7f}é€😀",
            "</script>",
        ] {
            assert_eq!(s(|o| str(o, t)), serde_json::to_string(t).unwrap());
        }
        for n in [0u64, 9, 10, 4_294_967_196, u64::MAX] {
            assert_eq!(s(|o| uint(o, n)), serde_json::to_string(&n).unwrap());
        }
        for n in [0i64, -1, -4095, i64::MIN, i64::MAX] {
            assert_eq!(s(|o| int(o, n)), serde_json::to_string(&n).unwrap());
        }
        for n in [0u64, 1, 0xf, 0x10, 0x7ffd_1234_5000, u64::MAX] {
            assert_eq!(s(|o| hex_str(o, n)), format!("\"{n:#x}\""));
        }
        assert_eq!(
            s(|o| bytes_str(o, b"a\xffb\n")),
            serde_json::to_string(&super::super::decode::json_bytes(b"a\xffb\n")).unwrap()
        );
        assert_eq!(s(|o| list(o, &[1u64, 2], |o, n| uint(o, *n))), "[1,2]");
        assert_eq!(s(|o| list::<u64>(o, &[], |o, n| uint(o, *n))), "[]");
    }
}
