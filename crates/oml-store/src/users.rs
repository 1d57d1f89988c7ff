//! Console users: argon2id password hashes, roles, activation.

use crate::{now_ms, on_pool, Result, Store, StoreError};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// What a user may do. Admins administer; supervisors run campaigns; agents talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            "agent" => Ok(Role::Agent),
            other => Err(StoreError::invalid(
                "role",
                format!("`{other}` is not one of admin, supervisor, agent"),
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A stored user. The password hash is kept out of `Debug`.
#[derive(Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub must_change_password: bool,
    /// The agent's SIP extension (agents only; see [`crate::validate_extension`]).
    pub extension: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("active", &self.active)
            .field("must_change_password", &self.must_change_password)
            .field("extension", &self.extension)
            .finish()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    username: String,
    password_hash: String,
    role: String,
    active: bool,
    must_change_password: bool,
    extension: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            id: r.id,
            username: r.username,
            password_hash: r.password_hash,
            role: r.role.parse()?,
            active: r.active,
            must_change_password: r.must_change_password,
            extension: r.extension,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// What is needed to create a user.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a SecretString,
    pub role: Role,
    pub must_change_password: bool,
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MAX_USERNAME_LEN: usize = 64;

/// Usernames: 1–64 of letters, digits, `.`, `_`, `-`, `@`.
pub fn validate_username(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(StoreError::invalid("username", "it is empty"));
    }
    if name.chars().count() > MAX_USERNAME_LEN {
        return Err(StoreError::invalid(
            "username",
            format!("it is longer than {MAX_USERNAME_LEN} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(StoreError::invalid(
            "username",
            format!("character {c:?} is not allowed (use letters, digits, . _ - @)"),
        ));
    }
    Ok(())
}

/// Passwords: 8–1024 characters.
pub fn validate_password(password: &SecretString) -> Result<()> {
    let n = password.expose_secret().chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(StoreError::invalid(
            "password",
            format!("it must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(StoreError::invalid(
            "password",
            format!("it must have at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// An argon2id hash (PHC string) with a fresh random salt.
pub fn hash_password(password: &SecretString) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::invalid("password", e.to_string()))
}

/// True when `password` matches the PHC `hash`.
pub fn verify_password_hash(password: &SecretString, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub(crate) const USER_COLUMNS: &str =
    "id, username, password_hash, role, active, must_change_password, extension, created_at, updated_at";

impl Store {
    /// Creates a user; the username must be new. An agent gets the
    /// default extension (1000 + id) and no campaigns: see
    /// [`Store::create_user_with`] to choose them.
    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<User> {
        self.create_user_with(new, &crate::AgentSetup::default())
            .await
    }

    /// The user called `username`, if any.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(username)
            .fetch_optional(p)
            .await?);
        row.map(User::try_from).transpose()
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = on_pool!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?);
        row.map(User::try_from).transpose()
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows = on_pool!(self, |p| sqlx::query_as::<_, UserRow>(&sql)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(User::try_from).collect()
    }

    /// How many active administrators exist (first-run setup shows when 0).
    pub async fn count_active_admins(&self) -> Result<i64> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active"
        )
        .fetch_one(p)
        .await?))
    }

    /// Replaces a user's password; `must_change` forces a change at next login.
    pub async fn set_password(
        &self,
        username: &str,
        password: &SecretString,
        must_change: bool,
    ) -> Result<()> {
        validate_password(password)?;
        let hash = hash_password(password)?;
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE username = $4"
        )
        .bind(&hash)
        .bind(must_change)
        .bind(now_ms())
        .bind(username)
        .execute(p)
        .await?
        .rows_affected()
        });
        not_found_if_zero(n, username)
    }

    /// Changes a user's role. A user becoming an agent without an extension
    /// gets the default one (1000 + id); a former agent keeps theirs.
    pub async fn set_role(&self, username: &str, role: Role) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE users SET role = $1, updated_at = $2,
                extension = CASE WHEN $1 = 'agent' AND extension IS NULL
                    THEN CAST(1000 + id AS TEXT) ELSE extension END
             WHERE username = $3"
        )
        .bind(role.as_str())
        .bind(now_ms())
        .bind(username)
        .execute(p)
        .await
        .map_err(StoreError::from)
        .map_err(|e| crate::agents::default_extension_taken(e, username))?
        .rows_affected());
        not_found_if_zero(n, username)
    }

    /// Activates or deactivates a user. A deactivated user cannot log in.
    pub async fn set_active(&self, username: &str, active: bool) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE users SET active = $1, updated_at = $2 WHERE username = $3"
        )
        .bind(active)
        .bind(now_ms())
        .bind(username)
        .execute(p)
        .await?
        .rows_affected());
        not_found_if_zero(n, username)
    }

    /// Puts back a password hash read before with [`Store::user_by_name`]:
    /// how a password change is undone without knowing the old password.
    pub async fn restore_password_hash(
        &self,
        username: &str,
        hash: &str,
        must_change: bool,
    ) -> Result<()> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE username = $4"
        )
        .bind(hash)
        .bind(must_change)
        .bind(now_ms())
        .bind(username)
        .execute(p)
        .await?
        .rows_affected()
        });
        not_found_if_zero(n, username)
    }
}

pub(crate) fn not_found_if_zero(rows: u64, username: &str) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound {
            what: "user",
            name: username.into(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let pw: SecretString = "correct horse".into();
        let a = hash_password(&pw).unwrap();
        let b = hash_password(&pw).unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password_hash(&pw, &a));
        assert!(!verify_password_hash(&"wrong horse".into(), &a));
        assert!(!verify_password_hash(&pw, "not a hash"));
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(validate_username("maria.lopez@cc").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("<script>").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
        assert!(validate_password(&"short".into()).is_err());
        assert!(validate_password(&"x".repeat(1025).into()).is_err());
        assert!(validate_password(&"long enough".into()).is_ok());
    }

    #[test]
    fn debug_hides_the_hash() {
        let u = User {
            id: 1,
            username: "a".into(),
            password_hash: "$argon2id$secret".into(),
            role: Role::Admin,
            active: true,
            must_change_password: false,
            extension: None,
            created_at: 0,
            updated_at: 0,
        };
        assert!(!format!("{u:?}").contains("secret"));
    }
}
