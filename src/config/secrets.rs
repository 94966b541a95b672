//! Secrets of the database section: the URL from the TOML, the environment or a file
//! (systemd credentials included), and the password alone; none of them may sit in the TOML.

use std::path::PathBuf;

use super::file;
use super::validate::Validator;
use super::{ConfigError, Secret};
use crate::source::Dialect;

impl Validator<'_> {
    pub(super) fn database_url(
        &self,
        section: &file::DatabaseSection,
    ) -> Result<String, ConfigError> {
        let url = match (&section.url, &section.url_env, &section.url_file) {
            (Some(url), None, None) => {
                if url_has_password(url) {
                    return Err(self.invalid(
                        "database.url",
                        "holds a password; move the URL to `url_env` or `url_file` so that \
                         no secret sits in the TOML",
                    ));
                }
                url.clone()
            }
            (None, Some(var), None) => self.secret_from_env("database.url_env", var)?,
            (None, None, Some(secret_path)) => self
                .secret_from_file("database.url_file", secret_path)?
                .trim()
                .to_owned(),
            _ => {
                return Err(self.invalid(
                    "database",
                    "needs exactly one of `url`, `url_env` or `url_file`",
                ))
            }
        };
        if url.is_empty() {
            return Err(self.invalid("database.url", "is empty"));
        }
        Ok(url)
    }

    /// The value of the environment variable `var`, named by `key`.
    fn secret_from_env(&self, key: &str, var: &str) -> Result<String, ConfigError> {
        std::env::var(var).map_err(|_| {
            self.invalid(
                key,
                format!("names the environment variable {var}, which is not set"),
            )
        })
    }

    /// The contents of the file `path` (which may start with `$CREDENTIALS_DIRECTORY`),
    /// named by `key`.
    fn secret_from_file(&self, key: &str, path: &str) -> Result<String, ConfigError> {
        let resolved = credentials_path(path).map_err(|message| self.invalid(key, message))?;
        std::fs::read_to_string(resolved)
            .map_err(|err| self.invalid(key, format!("names {path}, which cannot be read: {err}")))
    }

    pub(super) fn database_password(
        &self,
        section: &file::DatabaseSection,
        url: &str,
        dialect: Dialect,
    ) -> Result<Option<Secret>, ConfigError> {
        let (key, password) = match (&section.password_env, &section.password_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    "database",
                    "sets both `password_env` and `password_file`; keep one",
                ))
            }
            (Some(var), None) => (
                "database.password_env",
                self.secret_from_env("database.password_env", var)?,
            ),
            (None, Some(secret_path)) => (
                "database.password_file",
                (self.secret_from_file("database.password_file", secret_path)?)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
        };
        if dialect == Dialect::Sqlite {
            return Err(self.invalid(key, "is set, but SQLite takes no password; remove it"));
        }
        if url_has_password(url) {
            return Err(self.invalid(
                key,
                "is set, but the database URL holds a password too; keep one of them",
            ));
        }
        if password.is_empty() {
            return Err(self.invalid(key, "gives an empty password"));
        }
        Ok(Some(Secret(password)))
    }
}

/// The variable systemd sets to the folder of the credentials given with `LoadCredential=`.
const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// `path` with a leading `$CREDENTIALS_DIRECTORY` (or `${CREDENTIALS_DIRECTORY}`) replaced by that variable's value, so a
/// secret file can name a systemd credential without knowing where systemd puts it.
fn credentials_path(path: &str) -> Result<PathBuf, String> {
    let prefixes = ["${CREDENTIALS_DIRECTORY}", "$CREDENTIALS_DIRECTORY"];
    let rest = prefixes.iter().find_map(|prefix| path.strip_prefix(prefix));
    let Some(rest) = rest.filter(|rest| rest.is_empty() || rest.starts_with('/')) else {
        return Ok(PathBuf::from(path));
    };
    match std::env::var_os(CREDENTIALS_DIRECTORY) {
        Some(directory) => Ok(PathBuf::from(directory).join(rest.trim_start_matches('/'))),
        None => Err(format!(
            "names {path}, but {CREDENTIALS_DIRECTORY} is not set; run under systemd with \
             `LoadCredential=` or give the file's full path"
        )),
    }
}

/// Whether a URL such as `postgres://user:secret@host/db` or `...?password=secret`
/// carries a password.
fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let query = rest.split_once('?').map_or("", |(_, query)| query);
    if query
        .split('&')
        .any(|pair| pair.to_ascii_lowercase().starts_with("password="))
    {
        return true;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((user_info, _)) => user_info.contains(':'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn database(extra: &str) -> Result<Config, ConfigError> {
        let text = format!(
            "[database]\n{extra}\n\
             [opportunities]\ntable = \"o\"\n\
             [opportunities.columns]\nid = \"id\"\nrep = \"rep\"\n\
             created_at = \"c\"\nstatus = \"s\"\nclosed_at = \"d\"\namount = \"a\"\n\
             [opportunities.status]\nopen = [\"o\"]\nwon = [\"w\"]\nlost = [\"l\"]\n"
        );
        Config::from_toml(&text, Path::new("test.toml"))
    }

    /// A password file sets the password on the options and never shows in `Debug`.
    #[test]
    fn password_file_is_read_and_redacted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").expect("write");
        let config = database(&format!(
            "url = \"postgres://exporter@db/sales\"\npassword_file = {:?}",
            file.display().to_string()
        ))
        .expect("valid");
        let password = config.database.password.clone().expect("password");
        assert_eq!(password.expose(), "s3cret");
        assert!(!format!("{:?}", config.database).contains("s3cret"));
    }

    /// A password from the environment is refused beside a URL that holds one, for SQLite,
    /// and when its variable is unset.
    #[test]
    fn password_env_is_validated() {
        let err = database("url = \"sqlite:x.db\"\npassword_env = \"PATH\"").unwrap_err();
        assert!(
            err.to_string().contains("SQLite takes no password"),
            "{err}"
        );
        let err = database(
            "url = \"mysql://u@db/s\"\npassword_env = \"SALES_EXPORTER_TEST_UNSET_VARIABLE\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not set"), "{err}");
        let err =
            database("url = \"mysql://u@db/s\"\npassword_env = \"PATH\"\npassword_file = \"/x\"")
                .unwrap_err();
        assert!(err.to_string().contains("keep one"), "{err}");
        let config = database("url = \"mysql://u@db/s\"\npassword_env = \"PATH\"").expect("ok");
        assert!(config.database.password.is_some());
        let err = database("url = \"mysql://u@db/s\"\nmax_connections = 1").unwrap_err();
        assert!(err.to_string().contains("at least 2"), "{err}");
        let err = database("url = \"postgres://u@db/s?password=x\"").unwrap_err();
        assert!(err.to_string().contains("holds a password"), "{err}");
    }
}
