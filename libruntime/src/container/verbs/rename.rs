//! rename, under the store lock: names are unique across records.

use crate::container::handle::Container;
use crate::error::{Error, Result};

impl Container<'_> {
    pub fn rename(&mut self, new_name: &str) -> Result<()> {
        if !crate::ids::valid_name(new_name) {
            return Err(Error::InvalidArgument(format!(
                "invalid container name {new_name:?}"
            )));
        }
        let paths = self.paths;
        crate::container::record::update(paths, &self.record.id, |r| {
            if crate::container::list(paths)?
                .iter()
                .any(|c| c.name == new_name)
            {
                return Err(Error::InvalidArgument(format!(
                    "the container name {new_name:?} is already in use"
                )));
            }
            r.name = new_name.to_string();
            Ok(())
        })?;
        self.record.name = new_name.to_string();
        self.emit(crate::events::EventStatus::Rename);
        Ok(())
    }
}
