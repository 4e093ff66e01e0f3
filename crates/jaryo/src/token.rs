//! The API token: from the configuration, or generated once into the data directory.
//!
//! A generated token is written with mode 0600 and never printed or logged; people read it
//! from the file (`cat <data-dir>/api-token`). Only its location is shown.

use anyhow::{Context, bail};
use secrecy::SecretString;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Where the token in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// `JARYO_API_TOKEN` or `api_token` in the file.
    Configured,
    /// Read from the token file.
    File,
    /// Generated just now into the token file.
    Generated,
}

/// The configured token, or the one in `file`, or a new one written there.
pub fn ensure_token(
    configured: Option<&SecretString>,
    file: &Path,
) -> anyhow::Result<(SecretString, TokenOrigin)> {
    if let Some(token) = configured {
        return Ok((token.clone(), TokenOrigin::Configured));
    }
    if let Some(token) = read_token_file(file)? {
        return Ok((token, TokenOrigin::File));
    }
    let token = generate_token();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(mut handle) => {
            handle
                .write_all(format!("{token}\n").as_bytes())
                .and_then(|()| handle.sync_all())
                .with_context(|| format!("cannot write the API token to {}", file.display()))?;
            Ok((SecretString::from(token), TokenOrigin::Generated))
        }
        // Another process made it between our read and our write: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            match read_token_file(file)? {
                Some(token) => Ok((token, TokenOrigin::File)),
                None => bail!("the token file {} is empty", file.display()),
            }
        }
        Err(error) => {
            Err(error).with_context(|| format!("cannot create the token file {}", file.display()))
        }
    }
}

/// The token in `file`, if the file exists.
pub fn read_token_file(file: &Path) -> anyhow::Result<Option<SecretString>> {
    match fs::read_to_string(file) {
        Ok(text) => {
            let token = text.trim();
            if token.is_empty() {
                bail!("the token file {} is empty", file.display());
            }
            warn_if_readable_by_others(file);
            Ok(Some(SecretString::from(token.to_owned())))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the token file {}", file.display()))
        }
    }
}

fn warn_if_readable_by_others(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %file.display(),
                "the API token file is readable by other users; run chmod 600 on it"
            );
        }
    }
}

/// 256 random bits, hex-encoded.
fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn generates_once_then_reuses_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("api-token");
        let (first, origin) = ensure_token(None, &file).unwrap();
        assert_eq!(origin, TokenOrigin::Generated);
        assert_eq!(first.expose_secret().len(), 64);
        let (second, origin) = ensure_token(None, &file).unwrap();
        assert_eq!(origin, TokenOrigin::File);
        assert_eq!(first.expose_secret(), second.expose_secret());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("api-token");
        ensure_token(None, &file).unwrap();
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_configured_token_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("api-token");
        let configured = SecretString::from("from-env");
        let (token, origin) = ensure_token(Some(&configured), &file).unwrap();
        assert_eq!(origin, TokenOrigin::Configured);
        assert_eq!(token.expose_secret(), "from-env");
        assert!(!file.exists());
    }
}
