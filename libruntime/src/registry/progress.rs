//! How pull and push report what they do: the CLI passes an implementation (bars on a
//! terminal, plain lines otherwise, nothing with -q); the library never prints.

/// Blobs are named by `id`s like "blob 3f2a…" or "config 9c1e…".
pub trait Progress: Sync {
    /// A blob starts moving; `total` bytes are expected.
    fn begin(&self, _id: &str, _total: u64) {}
    fn advance(&self, _id: &str, _bytes: u64) {}
    /// The blob is done: "done", "skipped: already exists", "mounted"…
    fn end(&self, _id: &str, _how: &str) {}
    /// A step worth a line: "Trying to pull …", "Writing manifest".
    fn note(&self, _msg: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}
