//! healthcheck run: one check, as podman's command (the supervisor's timer runs it too).

use crate::cli_container::NamesOne;
use crate::output::write_out;
use crate::Ctx;
use anyhow::Result;
use libruntime::container::Container;

/// 0 when the check passed; "unhealthy" and 1 when it did not.
pub fn run(ctx: &Ctx, a: NamesOne) -> Result<i32> {
    let c = Container::find(&ctx.paths, &ctx.maps, &a.name)?;
    match c.healthcheck()? {
        (true, _) => Ok(0),
        (false, _) => {
            write_out("unhealthy\n")?;
            Ok(1)
        }
    }
}
