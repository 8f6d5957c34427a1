//! Ids and names shared by containers, volumes and networks. A leaf module, so that
//! none of those imports another for them.

/// A random 64-hex-digit id.
pub fn new_id() -> String {
    let mut buf = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut buf);
    }
    crate::digest::to_hex(&buf)
}

/// podman's rule for container, volume and network names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
