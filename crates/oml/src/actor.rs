//! Who runs an `oml` command, for the audit log. Environment variables such
//! as `$USER` and `$SUDO_USER` are whatever the caller sets, so the actor
//! comes from the kernel instead: the real user id of the process, and the
//! login user id (`/proc/self/loginuid`, set once at login by PAM and kept
//! across `sudo` and `su`). When the two differ (an administrator's `sudo
//! oml ...`), both are recorded: `cli:root (login alice)`.

use std::path::Path;

/// The kernel's value for "no login user id" (`(uid_t)-1`): daemons,
/// containers and sessions started without PAM.
const NO_LOGIN_UID: u32 = u32::MAX;

/// The audit actor of this process: `cli:NAME`, or `cli:NAME (login LOGIN)`
/// when the login user differs from the real one.
pub fn cli_actor() -> String {
    let uid = nix::unistd::getuid().as_raw();
    let login = login_uid(Path::new("/proc/self/loginuid"));
    describe(uid, login, user_name)
}

/// The login user id from `path` (`/proc/self/loginuid`): `None` when it
/// cannot be read or is unset.
pub fn login_uid(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let uid: u32 = text.trim().parse().ok()?;
    (uid != NO_LOGIN_UID).then_some(uid)
}

/// The account name of `uid` from the system's user database (files,
/// LDAP... through the C library), or `uid N` when it has none.
pub fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// The actor text for real user `uid` and login user `login` (pure).
pub fn describe(uid: u32, login: Option<u32>, name: impl Fn(u32) -> String) -> String {
    match login {
        Some(l) if l != uid => format!("cli:{} (login {})", name(uid), name(l)),
        _ => format!("cli:{}", name(uid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(uid: u32) -> String {
        match uid {
            0 => "root".into(),
            1000 => "alice".into(),
            n => format!("uid {n}"),
        }
    }

    #[test]
    fn sudo_records_both_users_and_a_plain_run_one() {
        assert_eq!(describe(0, Some(1000), names), "cli:root (login alice)");
        assert_eq!(describe(1000, Some(1000), names), "cli:alice");
        assert_eq!(describe(0, None, names), "cli:root");
        assert_eq!(describe(4242, Some(0), names), "cli:uid 4242 (login root)");
    }

    #[test]
    fn the_login_uid_is_read_from_the_kernel_file_and_unset_means_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loginuid");
        std::fs::write(&p, "1000").unwrap();
        assert_eq!(login_uid(&p), Some(1000));
        std::fs::write(&p, "4294967295").unwrap();
        assert_eq!(login_uid(&p), None, "unset");
        std::fs::write(&p, "garbage").unwrap();
        assert_eq!(login_uid(&p), None);
        assert_eq!(login_uid(&dir.path().join("missing")), None);
    }

    #[test]
    fn names_come_from_the_user_database() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(3_999_999_999), "uid 3999999999");
    }
}
