//! The memory of successful logins: the usernames, client addresses and
//! IPv6 /64 networks a correct password came from. A login attempt that
//! matches one of them is checked in the hashing lane kept for known
//! logins, so a flood of wrong logins from new addresses cannot make real
//! users wait behind it. Pure (a bounded set behind a mutex), tested alone.
//!
//! Why this cannot be abused: an attempt counts against its username and
//! address before it is hashed, so a known name or address gets at most its
//! failure limit of hashes in that lane before it is blocked.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// How many subjects are remembered; the oldest is forgotten first.
pub const REMEMBERED: usize = 20_000;

/// What a successful login is remembered by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    User(String),
    /// An address or an IPv6 `/64` network, as [`crate::net::lockout_subjects`] writes it.
    Net(String),
}

/// The subjects of successful logins (bounded, oldest forgotten first).
pub struct Known {
    inner: Mutex<Inner>,
}

struct Inner {
    set: HashSet<Subject>,
    order: VecDeque<Subject>,
    cap: usize,
}

impl Known {
    pub fn new(cap: usize) -> Known {
        Known {
            inner: Mutex::new(Inner {
                set: HashSet::new(),
                order: VecDeque::new(),
                cap: cap.max(1),
            }),
        }
    }

    /// Remembers `subjects` (a login succeeded with them).
    pub fn remember(&self, subjects: impl IntoIterator<Item = Subject>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for s in subjects {
            if g.set.contains(&s) {
                continue;
            }
            if g.order.len() >= g.cap {
                if let Some(old) = g.order.pop_front() {
                    g.set.remove(&old);
                }
            }
            g.set.insert(s.clone());
            g.order.push_back(s);
        }
    }

    /// True when any of `subjects` has logged in successfully before.
    pub fn any<'a>(&self, subjects: impl IntoIterator<Item = &'a Subject>) -> bool {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        subjects.into_iter().any(|s| g.set.contains(s))
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> Subject {
        Subject::User(s.into())
    }
    fn net(s: &str) -> Subject {
        Subject::Net(s.into())
    }

    #[test]
    fn remembers_users_and_addresses_apart() {
        let k = Known::new(10);
        assert!(!k.any(&[user("ana"), net("192.0.2.1")]));
        k.remember([user("ana"), net("192.0.2.1")]);
        assert!(k.any(&[user("ana")]));
        assert!(k.any(&[user("bo"), net("192.0.2.1")]));
        assert!(!k.any(&[user("192.0.2.1")]), "a name is not an address");
        assert!(!k.any(&[net("ana")]));
        k.remember([user("ana")]);
        assert_eq!(k.len(), 2, "no duplicates");
    }

    #[test]
    fn the_oldest_is_forgotten_first() {
        let k = Known::new(3);
        for i in 0..5 {
            k.remember([net(&format!("10.0.0.{i}"))]);
        }
        assert_eq!(k.len(), 3);
        assert!(!k.any(&[net("10.0.0.0")]) && !k.any(&[net("10.0.0.1")]));
        assert!(k.any(&[net("10.0.0.2")]) && k.any(&[net("10.0.0.4")]));
    }
}
