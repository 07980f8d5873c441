//! Where `--publish redis://...` puts a node's frames and where
//! `--source redis://...` finds them. Per node NAME:
//! - stream `systrace:node:NAME`: one entry per frame (field `f`, the
//!   prost bytes of a `Frame`, as on the gRPC stream), trimmed to about
//!   `MAXLEN` entries;
//! - string `systrace:node:NAME:hello`: the current run's hello frame;
//! - hash `systrace:node:NAME:containers`: cgroup id -> container frame,
//!   the containers alive now (a viewer that starts late needs them);
//! - set `systrace:nodes`: every NAME that published.

use prost::Message;

use super::pb;

pub const NODES: &str = "systrace:nodes";
/// The field of a stream entry holding the frame.
pub const FIELD: &str = "f";
/// Stream entries kept per node (approximate trimming: `MAXLEN ~`). An
/// entry is a batch of up to 4096 events.
pub const MAXLEN: usize = 10_000;

pub fn stream_key(node: &str) -> String {
    format!("systrace:node:{node}")
}

pub fn hello_key(node: &str) -> String {
    format!("systrace:node:{node}:hello")
}

pub fn containers_key(node: &str) -> String {
    format!("systrace:node:{node}:containers")
}

/// The node name in a stream key, if it is one.
pub fn node_of(key: &str) -> Option<&str> {
    key.strip_prefix("systrace:node:")
        .filter(|n| !n.is_empty() && !n.contains(':'))
}

/// Checks a `redis://HOST:PORT[/DB]` address: the scheme, and what the
/// client makes of the rest. A mistake here is a usage error.
pub fn check_url(url: &str) -> Result<redis::Client, String> {
    if !url.starts_with("redis://") {
        return Err(format!("{url:?} is not a redis://HOST:PORT address"));
    }
    redis::Client::open(url).map_err(|e| format!("{url:?}: {e}"))
}

pub fn frame_bytes(f: &pb::Frame) -> Vec<u8> {
    f.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_urls() {
        assert_eq!(node_of(&stream_key("worker-1")), Some("worker-1"));
        assert_eq!(node_of(&hello_key("worker-1")), None);
        assert_eq!(node_of("systrace:node:"), None);
        assert!(check_url("redis://127.0.0.1:6379").is_ok());
        assert!(check_url("127.0.0.1:6379").is_err());
        assert!(check_url("http://127.0.0.1:6379").is_err());
        assert!(check_url("redis://127.0.0.1:notaport").is_err());
    }
}
