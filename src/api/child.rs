//! Work the service hands to a `skiff` child process on the same store: what must
//! run in the rootless storage user namespace (removing layers owned by subordinate
//! ids, building, loading), which a multithreaded process cannot enter. The child's
//! failure comes back as the API error its exit code names.

use super::error::{ApiError, ApiResult};
use crate::Ctx;
use std::io::Write;
use std::process::{Command, Stdio};

/// A `skiff` command on the service's store, with an empty working directory so no
/// relative path a client sends can name a file of the service's.
pub fn command(ctx: &Ctx) -> Command {
    let mut c = crate::commands::registry::skiff_child(ctx);
    c.current_dir("/");
    c
}

/// The API error for a child that failed: its last error line, as 404 when the
/// removing verbs say "not there" (1), 409 for "in use" (2), else 500.
pub fn failure(code: Option<i32>, stderr: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the command failed")
        .trim_start_matches("Error: ")
        .to_string();
    match code {
        Some(1) => ApiError::NotFound(line),
        Some(2) => ApiError::Conflict(line),
        _ => ApiError::Engine(line),
    }
}

/// Starts `skiff ARGS` with its output piped (and its input, when there is some).
fn spawn(ctx: &Ctx, args: &[&str], input: bool) -> ApiResult<std::process::Child> {
    command(ctx)
        .args(args)
        .stdin(if input { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ApiError::Engine(format!("starting skiff {}: {e}", args[0])))
}

/// Waits for a child; its failure as the API error its exit code names.
fn finish(child: std::process::Child, what: &str) -> ApiResult<Vec<u8>> {
    let out = child
        .wait_with_output()
        .map_err(|e| ApiError::Engine(format!("waiting for skiff {what}: {e}")))?;
    if !out.status.success() {
        return Err(failure(out.status.code(), &out.stderr));
    }
    Ok(out.stdout)
}

/// Runs `skiff ARGS` with `input` on its standard input; its standard output.
pub fn run(ctx: &Ctx, args: &[&str], input: Option<&[u8]>) -> ApiResult<Vec<u8>> {
    let mut child = spawn(ctx, args, input.is_some())?;
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        // A child that fails early closes its input; its error says why.
        let _ = stdin.write_all(data);
    }
    finish(child, args[0])
}

/// Runs `skiff ARGS`, copying its standard output to `out` as it comes (an archive
/// of any size); a client that leaves ends the child.
pub fn stream(ctx: &Ctx, args: &[&str], out: &mut dyn Write) -> ApiResult<()> {
    use std::io::Read;
    let mut child = spawn(ctx, args, false)?;
    if let Some(mut from) = child.stdout.take() {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.write_all(&buf[..n]).is_err() {
                        let _ = child.kill();
                        break;
                    }
                }
            }
        }
    }
    finish(child, args[0]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_name_the_status() {
        let e = failure(Some(1), b"warning\nError: x: image not known\n");
        assert!(matches!(&e, ApiError::NotFound(m) if m == "x: image not known"));
        assert!(matches!(
            failure(Some(2), b"Error: in use"),
            ApiError::Conflict(_)
        ));
        assert!(
            matches!(failure(Some(125), b""), ApiError::Engine(m) if m == "the command failed")
        );
        assert!(matches!(
            failure(None, b"Error: killed"),
            ApiError::Engine(_)
        ));
    }
}
