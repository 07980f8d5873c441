//! Bytes from traced processes and capture kinds, as the lines write
//! them and read them back.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

use crate::model::jsonw;
use crate::model::raw::{CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_SOCKADDR, CAP_STR};

/// A string borrowed from the line when it has no escapes.
struct Text<'a>(Cow<'a, str>);

struct TextVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

/// Bytes as `write_bytes` writes them: a string, or `{"base64": "..."}`.
/// Visited directly rather than as an untagged enum, which would buffer
/// every value before trying the variants.
#[derive(Debug)]
pub enum BytesIn<'a> {
    Text(Cow<'a, str>),
    Base64(Cow<'a, str>),
}

struct BytesVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BytesVisitor<'a> {
    type Value = BytesIn<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a string or {"base64": "..."}"#)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<BytesIn<'a>, E> {
        Ok(BytesIn::Text(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<BytesIn<'a>, A::Error> {
        let mut b64 = None;
        while let Some(k) = m.next_key::<Text<'a>>()? {
            if k.0 == "base64" {
                b64 = Some(m.next_value::<Text<'a>>()?.0);
            } else {
                m.next_value::<de::IgnoredAny>()?;
            }
        }
        b64.map(BytesIn::Base64)
            .ok_or_else(|| de::Error::missing_field("base64"))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BytesIn<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BytesVisitor(PhantomData))
    }
}

impl BytesIn<'_> {
    /// Appends the bytes to `out`.
    pub(super) fn append_to(&self, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            BytesIn::Text(t) => {
                out.extend_from_slice(t.as_bytes());
                Ok(())
            }
            BytesIn::Base64(b) => B64
                .decode_vec(b.as_bytes(), out)
                .map_err(|e| format!("bad base64: {e}")),
        }
    }
}

/// Capture kinds by name; unknown kinds are written as their number.
pub(super) const KIND_NAMES: [(u8, &str); 5] = [
    (CAP_STR, "str"),
    (CAP_ARGV, "argv"),
    (CAP_BUF_IN, "buf_in"),
    (CAP_BUF_OUT, "buf_out"),
    (CAP_SOCKADDR, "sockaddr"),
];

pub(super) fn kind_name(k: u8) -> Option<&'static str> {
    KIND_NAMES.iter().find(|(n, _)| *n == k).map(|(_, s)| *s)
}

/// A capture kind as written: its name, or a number.
#[derive(Debug)]
pub(super) struct KindIn(pub(super) Result<u8, String>);

impl KindIn {
    pub(super) fn named(s: &str) -> KindIn {
        KindIn(
            KIND_NAMES
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(k, _)| *k)
                .ok_or_else(|| format!("unknown data kind {s:?}")),
        )
    }
}

impl<'de> Deserialize<'de> for KindIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KindIn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a data kind name or number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KindIn, E> {
                u8::try_from(v)
                    .map(|k| KindIn(Ok(k)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KindIn, E> {
                Ok(KindIn::named(s))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Debug)]
pub(super) struct ChunkIn<'a> {
    pub(super) arg: u8,
    pub(super) kind: KindIn,
    #[serde(borrow)]
    pub(super) value: BytesIn<'a>,
}

/// Bytes from a traced process, written reversibly: a JSON string when
/// they are valid UTF-8, else `{"base64": "..."}`.
pub(super) fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(t) => jsonw::str(out, t),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":");
            jsonw::str(out, &B64.encode(b));
            out.push(b'}');
        }
    }
}
