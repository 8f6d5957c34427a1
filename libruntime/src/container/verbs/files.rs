//! The container's files: diff, commit, and the root that cp and export read.

use crate::container::commit::{self, CommitOptions};
use crate::container::filesystem::ContainerFs;
use crate::container::handle::Container;
use crate::error::Result;
use crate::graph::changes::Change;
use crate::layer::ExtractOptions;
use crate::store::{ImageRecord, Store};

impl Container<'_> {
    /// What changed against the image.
    pub fn diff(&self) -> Result<Vec<Change>> {
        commit::diff(self.paths, &self.record)
    }

    /// Stores the changes as a new image; `store` must be locked.
    pub fn commit(
        &self,
        store: &Store,
        opts: &CommitOptions,
        extract: ExtractOptions,
    ) -> Result<ImageRecord> {
        let image = commit::commit(store, &self.record, opts, extract)?;
        self.emit(crate::events::EventStatus::Commit);
        Ok(image)
    }

    /// The root for `cp` (`volumes`: with its volumes mounted when stopped) and
    /// `export`. The caller must be single-threaded: this may enter namespaces.
    pub fn open_fs(&self, volumes: bool) -> Result<ContainerFs> {
        ContainerFs::open(self.paths, self.maps, &self.record, volumes)
    }
}
