//! The bare AMI loop the engine is compared with: one `AmiClient`, no
//! database, no pacing; it keeps as many calls in flight as the engine's
//! trunk allows and starts the next one as soon as one has ended (its
//! `OriginateResponse` and its customer leg's `Hangup` seen, as the engine
//! waits for). What the PBX can complete this way is the ceiling.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oml_ami::{Event, Originate};
use tokio::sync::Semaphore;

use super::pbx::Pbx;

/// What a run completed.
pub struct Completed {
    pub calls: usize,
    pub seconds: f64,
}

impl Completed {
    pub fn per_second(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}

#[derive(Default)]
struct Track {
    /// Per channel id: response seen, customer leg's hangup seen.
    calls: HashMap<String, (bool, bool)>,
    /// ActionID -> channel id, once the Originate's response came back.
    actions: HashMap<String, String>,
    /// `OriginateResponse`s that came before their action's response.
    early: HashSet<String>,
    done: usize,
    last: Option<Instant>,
}

impl Track {
    /// Marks one half of a call's end; true when the call just ended.
    fn mark(&mut self, key: &str, response: bool) -> bool {
        let Some(f) = self.calls.get_mut(key) else {
            return false;
        };
        if response {
            f.0 = true;
        } else {
            f.1 = true;
        }
        if f.0 && f.1 {
            self.calls.remove(key);
            self.done += 1;
            self.last = Some(Instant::now());
            return true;
        }
        false
    }
}

/// Places `n` calls with at most `pbx.channels` in flight.
pub async fn run(pbx: &Pbx, run_no: u32, n: usize) -> Completed {
    let client = pbx.connect().await;
    let track = Arc::new(Mutex::new(Track::default()));
    let slots = Arc::new(Semaphore::new(pbx.channels));
    let mut events = client.events();
    let (t, s) = (track.clone(), slots.clone());
    let listener = tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            let Event::Ami(m) = ev else { continue };
            let mut t = t.lock().unwrap();
            let ended = match m.event_name() {
                Some("OriginateResponse") => {
                    let Some(aid) = m.action_id() else { continue };
                    match t.actions.remove(aid) {
                        Some(key) => t.mark(&key, true),
                        None => {
                            t.early.insert(aid.to_owned());
                            false
                        }
                    }
                }
                Some("Hangup") if m.get("Channel").is_some_and(|c| c.ends_with(";2")) => {
                    let key = m.get("Linkedid").unwrap_or_default().to_owned();
                    t.mark(&key, false)
                }
                _ => false,
            };
            if ended {
                s.add_permits(1);
            }
        }
    });
    let start = Instant::now();
    for i in 0..n {
        slots.acquire().await.expect("slots stay open").forget();
        let key = format!("bare-{run_no}-{i}");
        let mut o = Originate::to_extension(
            &format!("Local/{}@from-oml/n", pbx.number(run_no, i)),
            "oml-campaign",
            "100",
        );
        o.timeout = Some(Duration::from_secs(30));
        o.channel_id = Some(key.clone());
        track
            .lock()
            .unwrap()
            .calls
            .insert(key.clone(), (false, false));
        let (c, t, s) = (client.clone(), track.clone(), slots.clone());
        tokio::spawn(async move {
            let ended = match c.originate(&o).await {
                Ok(r) => {
                    let aid = r.action_id().unwrap_or_default().to_owned();
                    let mut t = t.lock().unwrap();
                    if t.early.remove(&aid) {
                        t.mark(&key, true)
                    } else {
                        t.actions.insert(aid, key);
                        false
                    }
                }
                Err(e) => {
                    eprintln!("bare loop: Originate refused: {e}");
                    let mut t = t.lock().unwrap();
                    t.calls.remove(&key);
                    true
                }
            };
            if ended {
                s.add_permits(1);
            }
        });
    }
    // The last calls end.
    let deadline = Instant::now() + Duration::from_secs(60);
    while track.lock().unwrap().done < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    listener.abort();
    let _ = client.logoff().await;
    let t = track.lock().unwrap();
    Completed {
        calls: t.done,
        seconds: t
            .last
            .unwrap_or_else(Instant::now)
            .duration_since(start)
            .as_secs_f64(),
    }
}
