//! Running a page's examples: one bash per page, in a fresh temporary root
//! (the working folder, HOME, and where the page's absolute paths such as
//! /opt/oml or /etc/crm land), with the built `oml` first on PATH. Each
//! command's output and exit code are read back between sentinel lines, so
//! variables, `cd` and `$?` carry from one command to the next as in a
//! terminal. Background jobs (a pbxsim) are ended with the page. Setup lines
//! find the repository (fixtures) in `$OML_DOCS_REPO`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Folders whose absolute paths in a page are moved under the temporary root.
const MOVED: [&str; 7] = [
    "/opt/", "/root/", "/etc/", "/srv/", "/tmp/", "/var/", "/home/",
];

/// What one command printed (stdout and stderr together) and its exit code.
#[derive(Debug)]
pub struct Ran {
    pub output: String,
    pub code: i32,
}

/// `cmd` with the page's absolute paths moved under `root`.
pub fn rooted(cmd: &str, root: &Path) -> String {
    let root = root.display().to_string();
    let mut out = String::with_capacity(cmd.len());
    let mut prev: Option<char> = None;
    let mut k = 0;
    while k < cmd.len() {
        let rest = &cmd[k..];
        let boundary = prev.is_none_or(|c| c.is_whitespace() || "\"'=(:<>".contains(c));
        if boundary && MOVED.iter().any(|m| rest.starts_with(m)) {
            out.push_str(&root);
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        prev = Some(c);
        k += c.len_utf8();
    }
    out
}

/// Runs `cmds` in order in one bash under `root`; stops at `timeout`.
/// Returns one `Ran` per command that finished.
pub fn run_page(
    cmds: &[String],
    root: &Path,
    oml: &Path,
    timeout: Duration,
) -> Result<Vec<Ran>, String> {
    for m in MOVED {
        std::fs::create_dir_all(root.join(m.trim_matches('/'))).map_err(|e| e.to_string())?;
    }
    let bin = root.join(".bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(oml, bin.join("oml")).map_err(|e| e.to_string())?;
    let nonce = format!(
        "@@docs-{}-{}@@",
        std::process::id(),
        root.display().to_string().len()
    );
    let mut script = String::from("exec </dev/null\n");
    for c in cmds {
        script.push_str(&format!(
            "{{ {}\n}} 2>&1\n__rc=$?\nprintf '\\n{nonce} %d\\n' \"$__rc\"\n(exit \"$__rc\")\n",
            rooted(c, root)
        ));
    }
    script.push_str("kill $(jobs -p) 2>/dev/null\nwait\n");
    let file = root.join(".page.sh");
    std::fs::write(&file, script).map_err(|e| e.to_string())?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = std::process::Command::new("bash")
        .arg(&file)
        .current_dir(root)
        .env("PATH", path)
        .env("HOME", root)
        .env("NO_COLOR", "1")
        // Setup lines copy fixtures from the repository (an inventory).
        .env(
            "OML_DOCS_REPO",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        )
        .env_remove("OML_HOME")
        .env_remove("OML_DATABASE_URL")
        .env("OML_INVENTORY", root.join("etc/oml/inventory"))
        .env_remove("OML_AMI_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start bash: {e}"))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let mut timed_out = false;
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The page's paths as the page writes them: /srv/x, not ROOT/srv/x.
    let root_slash = format!("{}/", root.display());
    let host = oml_ops::network::HostFacts::collect()
        .map(|h| h.hostname)
        .unwrap_or_default();
    // The page's process group: the bash, the command running, any background job.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let text = reader.join().unwrap_or_default();
    let mut ran = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        match line.trim_end().strip_prefix(&nonce) {
            Some(code) => {
                // The sentinel's own leading newline.
                if current.ends_with("\n\n") || current == "\n" {
                    current.pop();
                }
                let code = code.trim().parse().unwrap_or(-1);
                ran.push(Ran {
                    output: as_vm(&std::mem::take(&mut current), &host).replace(&root_slash, "/"),
                    code,
                });
            }
            None => current.push_str(line),
        }
    }
    if timed_out {
        return Err(format!(
            "timed out after {} s; finished {} of {} commands; last output:\n{}",
            timeout.as_secs(),
            ran.len(),
            cmds.len(),
            tail(&current)
        ));
    }
    Ok(ran)
}

/// The pages write this machine's host name as `vm`.
fn as_vm(text: &str, host: &str) -> String {
    if host.is_empty() || host == "vm" {
        return text.to_string();
    }
    let word = |c: char| c.is_alphanumeric() || "-_".contains(c);
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(host) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + host.len()..].chars().next();
        out.push_str(&rest[..at]);
        let whole = !before.is_some_and(|c| word(c) || c == '.') && !after.is_some_and(word);
        out.push_str(if whole { "vm" } else { host });
        rest = &rest[at + host.len()..];
    }
    out.push_str(rest);
    out
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// The built binary the runner uses.
pub fn oml_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_oml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_name_as_vm() {
        assert_eq!(
            as_vm("made on pbx1 (pbx1.lan) pbx10", "pbx1"),
            "made on vm (vm.lan) pbx10"
        );
    }

    #[test]
    fn paths_move_under_the_root() {
        let r = Path::new("/R");
        assert_eq!(
            rooted("oml --data-dir /opt/oml init", r),
            "oml --data-dir /R/opt/oml init"
        );
        assert_eq!(
            rooted("x >/etc/a 'y=/tmp/b' c=/srv/d", r),
            "x >/R/etc/a 'y=/R/tmp/b' c=/R/srv/d"
        );
        assert_eq!(
            rooted("cat ../etc/passwd /usr/bin/oml", r),
            "cat ../etc/passwd /usr/bin/oml"
        );
    }
}
