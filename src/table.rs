//! Column output like Go's tabwriter as podman configures it (min width 12, padding 2).

const MIN_WIDTH: usize = 12;
const PADDING: usize = 2;

/// Aligns tab-separated rows; the last column is not padded.
pub fn align(rows: &[String]) -> String {
    let split: Vec<Vec<&str>> = rows.iter().map(|r| r.split('\t').collect()).collect();
    let cols = split.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in &split {
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                widths[i] = widths[i].max((c.chars().count() + PADDING).max(MIN_WIDTH));
            }
        }
    }
    let mut out = String::new();
    for r in &split {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}
