//! `struct sockaddr` decoding for AF_INET, AF_INET6, AF_UNIX (path,
//! abstract, unnamed) and AF_NETLINK; other families keep their raw bytes.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::consts;
use crate::model::{escape, jsonw};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sockaddr<'a> {
    Inet {
        port: u16,
        addr: Ipv4Addr,
    },
    Inet6 {
        port: u16,
        flowinfo: u32,
        addr: Ipv6Addr,
        scope_id: u32,
    },
    /// `sun_path`; abstract names start with a NUL, kept out of `path`.
    Unix {
        path: &'a [u8],
        abstract_name: bool,
    },
    /// An unbound unix socket: only the family.
    UnixUnnamed,
    Netlink {
        pid: u32,
        groups: u32,
    },
    Other {
        family: u16,
        data: &'a [u8],
    },
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}
fn ne32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

impl<'a> Sockaddr<'a> {
    /// Decodes `len` bytes as the kernel saw them; `None` if shorter than
    /// the family field or the family's fixed part.
    pub fn parse(b: &'a [u8]) -> Option<Sockaddr<'a>> {
        if b.len() < 2 {
            return None;
        }
        let family = u16::from_ne_bytes([b[0], b[1]]);
        let rest = &b[2..];
        Some(match family {
            2 if b.len() >= 8 => Sockaddr::Inet {
                port: be16(rest),
                addr: Ipv4Addr::new(rest[2], rest[3], rest[4], rest[5]),
            },
            10 if b.len() >= 24 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&b[8..24]);
                Sockaddr::Inet6 {
                    port: be16(rest),
                    flowinfo: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    addr: Ipv6Addr::from(a),
                    scope_id: if b.len() >= 28 { ne32(&b[24..]) } else { 0 },
                }
            }
            1 if rest.is_empty() => Sockaddr::UnixUnnamed,
            1 if rest[0] == 0 => Sockaddr::Unix {
                path: &rest[1..],
                abstract_name: true,
            },
            1 => {
                let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
                Sockaddr::Unix {
                    path: &rest[..end],
                    abstract_name: false,
                }
            }
            16 if b.len() >= 12 => Sockaddr::Netlink {
                pid: ne32(&b[4..]),
                groups: ne32(&b[8..]),
            },
            _ => Sockaddr::Other { family, data: rest },
        })
    }

    pub fn family(&self) -> u16 {
        match self {
            Sockaddr::Inet { .. } => 2,
            Sockaddr::Inet6 { .. } => 10,
            Sockaddr::Unix { .. } | Sockaddr::UnixUnnamed => 1,
            Sockaddr::Netlink { .. } => 16,
            Sockaddr::Other { family, .. } => *family,
        }
    }

    fn family_name(&self) -> String {
        let f = self.family();
        consts::name_of(consts::AF, f.into()).map_or_else(|| f.to_string(), str::to_string)
    }

    /// strace's notation, e.g. `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(out, "{{sa_family={}", self.family_name());
        match self {
            Sockaddr::Inet { port, addr } => {
                let _ = write!(
                    out,
                    ", sin_port=htons({port}), sin_addr=inet_addr(\"{addr}\")"
                );
            }
            Sockaddr::Inet6 {
                port,
                flowinfo,
                addr,
                scope_id,
            } => {
                let _ = write!(
                    out,
                    ", sin6_port=htons({port}), sin6_flowinfo=htonl({flowinfo}), \
                     inet_pton(AF_INET6, \"{addr}\", &sin6_addr), sin6_scope_id={scope_id}"
                );
            }
            Sockaddr::Unix {
                path,
                abstract_name,
            } => {
                out.push_str(", sun_path=");
                if *abstract_name {
                    out.push('@');
                }
                out.push_str(&escape::quoted(path, usize::MAX, false));
            }
            Sockaddr::UnixUnnamed => {}
            Sockaddr::Netlink { pid, groups } => {
                let _ = write!(out, ", nl_pid={pid}, nl_groups={groups:08x}");
            }
            Sockaddr::Other { data, .. } => {
                out.push_str(", sa_data=");
                out.push_str(&escape::quoted(data, usize::MAX, false));
            }
        }
        out.push('}');
    }

    /// `{family, addr, port}` or `{family, path}` for the export format.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let family = self.family_name();
        match self {
            Sockaddr::Inet { port, addr } => {
                json!({"family": family, "addr": addr.to_string(), "port": port})
            }
            Sockaddr::Inet6 {
                port,
                addr,
                flowinfo,
                scope_id,
            } => json!({"family": family, "addr": addr.to_string(), "port": port,
                        "flowinfo": flowinfo, "scope_id": scope_id}),
            Sockaddr::Unix {
                path,
                abstract_name,
            } => {
                let p = super::json_bytes(path);
                if *abstract_name {
                    json!({"family": family, "path": format!("@{p}"), "abstract": true})
                } else {
                    json!({"family": family, "path": p})
                }
            }
            Sockaddr::UnixUnnamed => json!({"family": family}),
            Sockaddr::Netlink { pid, groups } => {
                json!({"family": family, "pid": pid, "groups": groups})
            }
            Sockaddr::Other { data, .. } => {
                json!({"family": family, "data": escape::plain(data, usize::MAX)})
            }
        }
    }
}

impl Sockaddr<'_> {
    /// `json()` written straight into `out`, keys sorted as serde_json's
    /// `Map` sorts them, so the bytes are the same.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let family = |out: &mut Vec<u8>| {
            out.extend_from_slice(b"\"family\":");
            jsonw::str(out, &self.family_name());
        };
        out.push(b'{');
        match self {
            Sockaddr::Inet { port, addr } => {
                out.extend_from_slice(b"\"addr\":");
                jsonw::str(out, &addr.to_string());
                out.push(b',');
                family(out);
                out.extend_from_slice(b",\"port\":");
                jsonw::uint(out, (*port).into());
            }
            Sockaddr::Inet6 {
                port,
                addr,
                flowinfo,
                scope_id,
            } => {
                out.extend_from_slice(b"\"addr\":");
                jsonw::str(out, &addr.to_string());
                out.push(b',');
                family(out);
                out.extend_from_slice(b",\"flowinfo\":");
                jsonw::uint(out, (*flowinfo).into());
                out.extend_from_slice(b",\"port\":");
                jsonw::uint(out, (*port).into());
                out.extend_from_slice(b",\"scope_id\":");
                jsonw::uint(out, (*scope_id).into());
            }
            Sockaddr::Unix {
                path,
                abstract_name,
            } => {
                if *abstract_name {
                    out.extend_from_slice(b"\"abstract\":true,");
                    family(out);
                    out.extend_from_slice(b",\"path\":");
                    jsonw::str(out, &format!("@{}", super::json_bytes(path)));
                } else {
                    family(out);
                    out.extend_from_slice(b",\"path\":");
                    jsonw::bytes_str(out, path);
                }
            }
            Sockaddr::UnixUnnamed => family(out),
            Sockaddr::Netlink { pid, groups } => {
                family(out);
                out.extend_from_slice(b",\"groups\":");
                jsonw::uint(out, (*groups).into());
                out.extend_from_slice(b",\"pid\":");
                jsonw::uint(out, (*pid).into());
            }
            Sockaddr::Other { data, .. } => {
                out.extend_from_slice(b"\"data\":");
                jsonw::str(out, &escape::plain(data, usize::MAX));
                out.push(b',');
                family(out);
            }
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        let mut s = String::new();
        Sockaddr::parse(b).unwrap().write(&mut s);
        s
    }

    #[test]
    fn inet() {
        let mut b = vec![2, 0, 0, 80, 127, 0, 0, 1];
        b.extend_from_slice(&[0; 8]);
        assert_eq!(
            text(&b),
            r#"{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}"#
        );
        let j = Sockaddr::parse(&b).unwrap().json();
        assert_eq!(j["family"], "AF_INET");
        assert_eq!(j["addr"], "127.0.0.1");
        assert_eq!(j["port"], 80);
    }

    #[test]
    fn inet6() {
        let mut b = vec![10, 0, 0x1f, 0x90, 0, 0, 0, 0];
        let mut a = [0u8; 16];
        a[15] = 1;
        b.extend_from_slice(&a);
        b.extend_from_slice(&[0; 4]);
        assert_eq!(
            text(&b),
            "{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), \
             inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}"
        );
        assert_eq!(Sockaddr::parse(&b).unwrap().json()["addr"], "::1");
    }

    #[test]
    fn unix_path_abstract_unnamed() {
        assert_eq!(
            text(b"\x01\x00/tmp/s\0\0\0"),
            r#"{sa_family=AF_UNIX, sun_path="/tmp/s"}"#
        );
        assert_eq!(
            text(b"\x01\x00\0name\x01"),
            r#"{sa_family=AF_UNIX, sun_path=@"name\x01"}"#
        );
        assert_eq!(text(b"\x01\x00"), "{sa_family=AF_UNIX}");
        let j = Sockaddr::parse(b"\x01\x00\0name").unwrap().json();
        assert_eq!(j["path"], "@name");
        assert_eq!(j["abstract"], true);
    }

    #[test]
    fn netlink_other_and_short() {
        let mut b = vec![16, 0, 0, 0];
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&5u32.to_ne_bytes());
        assert_eq!(
            text(&b),
            "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000005}"
        );
        assert_eq!(
            text(b"\x11\x00ab"),
            r#"{sa_family=AF_PACKET, sa_data="ab"}"#
        );
        assert_eq!(Sockaddr::parse(b"\x02"), None);
        // A too-short AF_INET keeps its bytes rather than reading past them.
        assert_eq!(
            text(b"\x02\x00\x01"),
            r#"{sa_family=AF_INET, sa_data="\x01"}"#
        );
    }
}
