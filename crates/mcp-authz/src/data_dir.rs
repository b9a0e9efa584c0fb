//! The data directory holds the SQLite database, and with it the private signing keys: it must be
//! the service user's alone (SEC-14). A missing directory is created mode 0700 whatever the umask;
//! an existing directory, database, write-ahead log or shared-memory file that the group or others
//! may read or write is refused with its path named, unless the operator passed
//! `--dangerous-allow-shared-data-dir`.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The mode a data directory is created with: the owner only.
#[cfg(unix)]
const PRIVATE_DIR_MODE: u32 = 0o700;

/// Whether shared permissions are refused (the default) or accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// Refuse a directory or database file that group or others may access.
    Refuse,
    /// `--dangerous-allow-shared-data-dir`: accept it (with a warning).
    DangerousAllow,
}

/// Creates `dir` (and missing parents) mode 0700 if it is missing; an existing file that is not a
/// directory is refused.
pub(crate) fn create_private(dir: &Path) -> Result<(), CliError> {
    let error = |source| CliError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(error(std::io::Error::other("not a directory")));
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir).map_err(error)?;
    // The umask may have taken bits away; set exactly 0700.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(PRIVATE_DIR_MODE))
            .map_err(error)?;
    }
    Ok(())
}

/// Checks that `dir` and the database files in it (`database` and its `-wal` and `-shm`, where they
/// exist) give the group and others no access.
pub(crate) fn check_private(dir: &Path, database: &Path, sharing: Sharing) -> Result<(), CliError> {
    let mut paths = vec![dir.to_owned(), database.to_owned()];
    paths.extend(companions(database));
    for path in paths {
        let Some(mode) = shared_mode(&path).map_err(|source| CliError::DataDir {
            path: path.display().to_string(),
            source,
        })?
        else {
            continue;
        };
        let path = path.display().to_string();
        match sharing {
            Sharing::Refuse => return Err(CliError::SharedDataDir { path, mode }),
            Sharing::DangerousAllow => tracing::warn!(
                path,
                mode = format!("{mode:o}"),
                "the data directory or database is accessible to other users \
                 (--dangerous-allow-shared-data-dir): they can read the private signing keys"
            ),
        }
    }
    Ok(())
}

/// The write-ahead log and shared-memory index SQLite keeps beside `database`.
fn companions(database: &Path) -> [PathBuf; 2] {
    let with_suffix = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with_suffix("-wal"), with_suffix("-shm")]
}

/// The permission bits of `path` when they let the group or others in; `None` when they do not or
/// the file does not exist.
#[cfg(unix)]
fn shared_mode(path: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o777;
            Ok((mode & 0o077 != 0).then_some(mode))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// No POSIX modes: access is governed by the directory's access control list.
#[cfg(not(unix))]
fn shared_mode(_path: &Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)] // test helpers: failing loudly is the point
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_new_directory_is_0700_and_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        check_private(&dir, &dir.join("db"), Sharing::Refuse).unwrap();
    }

    #[test]
    fn shared_directory_or_files_are_refused_naming_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        create_private(&dir).unwrap();
        let db = dir.join("db");
        std::fs::write(&db, b"").unwrap();
        set_mode(&db, 0o600);
        check_private(&dir, &db, Sharing::Refuse).unwrap();
        for (path, mode) in [
            (dir.clone(), 0o755),
            (db.clone(), 0o640),
            (dir.join("db-wal"), 0o604),
        ] {
            if !path.exists() {
                std::fs::write(&path, b"").unwrap();
            }
            set_mode(&path, mode);
            let error = check_private(&dir, &db, Sharing::Refuse).unwrap_err();
            assert!(
                error.to_string().contains(&path.display().to_string()),
                "{error}"
            );
            check_private(&dir, &db, Sharing::DangerousAllow).unwrap();
            set_mode(&path, if path == dir { 0o700 } else { 0o600 });
        }
    }
}
