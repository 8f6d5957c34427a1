//! Build steps in containers made by libruntime, as `run` makes them: RUN starts one
//! and streams its output; COPY, ADD and WORKDIR open a created one's root. Either
//! way the container is committed as the step's image, in a forked child that enters
//! the storage user namespace (rootless) so layer files keep their owners.

use super::executor::Reporter;
use super::BuildError;
use crate::container::commit::{self, CommitOptions};
use crate::container::filesystem::ContainerFs;
use crate::container::options::CreateOptions;
use crate::container::record::ContainerDirs;
use crate::container::Container;
use crate::container::ContainerError;
use crate::container::ContainerRecord;
use crate::error::{Error, Result};
use crate::layer::ExtractOptions;
use crate::paths::Paths;
use crate::sandbox::process::StartError;
use crate::store::Store;
use crate::supervisor::protocol;
use crate::userns::IdMaps;
use serde_json::{Map, Value};

/// Creates a container for a step (store locked for the moment it takes).
pub fn create(paths: &Paths, maps: &IdMaps, opts: &CreateOptions) -> Result<ContainerRecord> {
    let store = Store::open_locked(paths)?;
    crate::container::create::create(&store, maps, opts)
}

/// Starts the container and streams its output; returns its exit code.
pub fn run(
    paths: &Paths,
    maps: &IdMaps,
    record: &ContainerRecord,
    reporter: &dyn Reporter,
) -> Result<i32> {
    // Held until connected: the supervisor waits for us while it is open.
    let supervisor = Container::new(paths, maps, record.clone())
        .start_when_attached(0)
        .map_err(ContainerError::Start)?;
    let dirs = ContainerDirs::new(paths, &record.id);
    let mut stream = crate::container::verbs::connect(&dirs, protocol::WANT_OUTPUT, None)?;
    drop(supervisor);
    loop {
        match protocol::read_frame(&mut stream) {
            Ok(Some((protocol::STDOUT | protocol::STDERR, data))) => reporter.output(&data),
            Ok(Some((protocol::EXIT, data))) if data.len() >= 4 => {
                return Ok(i32::from_be_bytes([data[0], data[1], data[2], data[3]]))
            }
            Ok(Some((protocol::START_ERROR, data))) => {
                let code = data
                    .get(..4)
                    .map_or(125, |c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]));
                let message = String::from_utf8_lossy(data.get(4..).unwrap_or(&[])).into_owned();
                return Err(ContainerError::Start(StartError { code, message }).into());
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err(BuildError::NoExitCode.into()),
            Err(e) => return Err(Error::io("reading the step's output", e)),
        }
    }
}

/// What a step's commit records.
pub struct Commit {
    pub config: Map<String, Value>,
    pub created_by: String,
    pub extract: ExtractOptions,
}

fn commit_now(paths: &Paths, record: &ContainerRecord, c: &Commit) -> Result<String> {
    let store = Store::open_locked(paths)?;
    let opts = CommitOptions {
        config: Some(c.config.clone()),
        created_by: Some(c.created_by.clone()),
        ..Default::default()
    };
    Ok(commit::commit(&store, record, &opts, c.extract)?.id)
}

/// Commits a container that ran (RUN).
pub fn commit(
    paths: &Paths,
    maps: &IdMaps,
    record: &ContainerRecord,
    c: &Commit,
) -> Result<String> {
    crate::userns::in_storage_ns(maps, || commit_now(paths, record, c))
}

/// Changes a created container's files with `change`, then commits it.
pub fn change_and_commit(
    paths: &Paths,
    maps: &IdMaps,
    record: &ContainerRecord,
    c: &Commit,
    change: impl FnOnce(&ContainerFs) -> Result<()>,
) -> Result<String> {
    crate::userns::in_child(|| {
        let fs = ContainerFs::open(paths, maps, record, false)?;
        change(&fs)?;
        drop(fs);
        commit_now(paths, record, c)
    })
}

pub fn remove(paths: &Paths, maps: &IdMaps, record: &ContainerRecord) {
    let _ = Container::new(paths, maps, record.clone()).remove(true);
}

/// Commits, as one layer on `base`, everything the image of `record` holds beyond it:
/// the container (on vfs) is a full copy of that image, compared with `base` alone.
pub fn commit_squashed(
    paths: &Paths,
    maps: &IdMaps,
    record: &ContainerRecord,
    base: &crate::store::ImageRecord,
    c: &Commit,
) -> Result<String> {
    crate::userns::in_child(|| {
        drop(ContainerFs::open(paths, maps, record, false)?);
        let mut against = record.clone();
        against.image_id = base.id.clone();
        against.layers = base.layers.iter().map(|l| l.diff_id.to_string()).collect();
        commit_now(paths, &against, c)
    })
}
