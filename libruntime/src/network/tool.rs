//! Running the network tools skiff drives (`ip`, `nft`): a script on standard input,
//! and the first line of standard error as the reason when it fails.

use crate::error::{Error, Result};
use crate::network::NetworkError;
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `cmd` with `script` on its standard input; `package` names what provides it.
pub fn run_script(mut cmd: Command, script: &str, package: &str) -> Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Network(NetworkError::Tool(format!(
                "running {program}: {e} (install the {package} package; scripts/setup.sh does)"
            )))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Network(NetworkError::Tool(format!("running {program}: {e}"))))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Network(NetworkError::Tool(format!(
            "{program} failed: {}",
            why.lines().next().unwrap_or("no reason given")
        ))));
    }
    Ok(())
}
