//! Reading zip containers (DOCX, HWPX) within the budget: a bounded number of entries, and
//! every entry's decompressed bytes charged to [`Budget`] as they come, whatever its header
//! claims, so a zip bomb stops at the limit with [`ExtractError::TooLarge`].

use std::io::Cursor;

use crate::{Budget, ExtractError};

/// More entries than any real office document has.
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct Zip<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> Zip<'a> {
    pub(crate) fn open(bytes: &'a [u8], what: &str) -> Result<Self, ExtractError> {
        let archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ExtractError::Broken {
                reason: format!("not a readable {what} (zip) file: {e}"),
            })?;
        if archive.len() > MAX_ENTRIES {
            return Err(ExtractError::TooLarge {
                reason: format!("{} entries in the zip", archive.len()),
            });
        }
        Ok(Self { archive })
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect()
    }

    /// The entry named `name`, or `None` when the zip has none.
    pub(crate) fn read(
        &mut self,
        name: &str,
        budget: &mut Budget,
    ) -> Result<Option<Vec<u8>>, ExtractError> {
        let entry = match self.archive.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(zip::result::ZipError::UnsupportedArchive(msg))
                if msg.contains("ncrypt") || msg.contains("assword") =>
            {
                return Err(ExtractError::Encrypted {
                    reason: format!("the entry {name} is encrypted"),
                });
            }
            Err(e) => {
                return Err(ExtractError::Broken {
                    reason: format!("the entry {name} cannot be read: {e}"),
                });
            }
        };
        if entry.encrypted() {
            return Err(ExtractError::Encrypted {
                reason: format!("the entry {name} is encrypted"),
            });
        }
        budget.read_to_end(entry).map(Some)
    }
}
