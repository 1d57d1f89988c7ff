use super::*;

/// A WAV file of `seconds` of a 440 Hz tone.
fn wav(rate: u32, channels: u16, bits: u16, seconds: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    let n = (f64::from(rate) * seconds) as usize;
    let amp = f64::from((1_i32 << (bits - 1)) - 1) * 0.5;
    for i in 0..n {
        let v = (amp * (i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin()) as i32;
        for _ in 0..channels {
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn gsm(frames: usize) -> Vec<u8> {
    let mut v = vec![0u8; frames * GSM_FRAME];
    for f in v.chunks_mut(GSM_FRAME) {
        f[0] = 0xD8;
    }
    v
}

fn refused(r: Result<Sound, SoundError>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(s) => panic!("stored {s:?}"),
    }
}

#[test]
fn names_are_file_and_dialplan_safe() {
    for ok in ["welcome", "abandon-2", "m_1", "9am"] {
        check_name(ok).unwrap();
    }
    for bad in [
        "",
        "Welcome",
        "../x",
        "a/b",
        "a b",
        "-x",
        "a.wav",
        "x,1",
        &"a".repeat(65),
    ] {
        let e = check_name(bad).unwrap_err().to_string();
        assert!(e.contains("lower-case letters, digits"), "{bad}: {e}");
    }
}

#[test]
fn sounds_are_checked_converted_and_stored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 8 kHz stereo 24-bit: converted to mono 16-bit, same length.
    let s = add(d, "welcome", "hello.wav", &wav(8000, 2, 24, 2.0)).unwrap();
    assert_eq!((s.format, s.asterisk_name.as_str()), ("wav", "oml/welcome"));
    assert!((s.seconds - 2.0).abs() < 0.01, "{}", s.seconds);
    let r = hound::WavReader::open(d.join("welcome.wav")).unwrap();
    let spec = r.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 8000, 16)
    );
    assert_eq!(r.duration(), 16_000);
    let peak = hound::WavReader::open(d.join("welcome.wav"))
        .unwrap()
        .samples::<i16>()
        .map(|v| v.unwrap().unsigned_abs())
        .max()
        .unwrap();
    assert!((16_000..=16_500).contains(&peak), "half scale kept: {peak}");

    let g = add(d, "sorry", "sorry.gsm", &gsm(150)).unwrap();
    assert_eq!((g.format, g.bytes), ("gsm", 150 * 33));
    assert!((g.seconds - 3.0).abs() < 1e-9);

    // Refusals, each saying why; nothing half-stored.
    let e = refused(add(d, "x", "x.wav", &wav(16000, 1, 16, 1.0)));
    assert!(
        e.contains("16000 Hz") && e.contains("8000 Hz mono 16-bit"),
        "{e}"
    );
    let e = refused(add(d, "x", "x.wav", &wav(8000, 1, 16, 61.0)));
    assert!(e.contains("61.0 s, over the 60 s"), "{e}");
    let e = refused(add(d, "x", "x.gsm", &gsm(3001)));
    assert!(e.contains("over the 60 s"), "{e}");
    let e = refused(add(d, "x", "x.txt", b"hello, this is not audio"));
    assert!(e.contains("not a WAV file") && e.contains("8000 Hz"), "{e}");
    let e = refused(add(d, "x", "x.gsm", b"hello, this is not audio either!!"));
    assert!(e.contains("not raw GSM"), "{e}");
    let mut broken = wav(8000, 1, 16, 1.0);
    broken.truncate(30);
    let e = refused(add(d, "x", "x.wav", &broken));
    assert!(e.contains("not a WAV file oml can read"), "{e}");
    let big = vec![0u8; MAX_BYTES as usize + 1];
    let e = refused(add(d, "x", "x.wav", &big));
    assert!(e.contains("over the 5 MB"), "{e}");
    let e = refused(add(d, "welcome", "w.gsm", &gsm(10)));
    assert!(e.contains("exists already"), "{e}");
    let e = refused(add(d, "../etc", "w.gsm", &gsm(10)));
    assert!(e.contains("sound name"), "{e}");
    let files: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(files, ["sorry.gsm", "welcome.wav"], "no leftovers");

    let names: Vec<String> = list(d).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["sorry", "welcome"]);

    // Installed into Asterisk's sounds folder: copied once, then unchanged;
    // a removed sound's copy goes too.
    let root = tempfile::tempdir().unwrap();
    let plan = install(d, root.path(), true).unwrap();
    assert_eq!(plan.copied, ["sorry.gsm", "welcome.wav"]);
    assert!(!plan.folder.exists(), "a dry run writes nothing");
    let done = install(d, root.path(), false).unwrap();
    assert_eq!(done.copied.len(), 2);
    let copy = root
        .path()
        .join("usr/share/asterisk/sounds/oml/welcome.wav");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(d.join("welcome.wav")).unwrap()
    );
    let again = install(d, root.path(), false).unwrap();
    assert_eq!((again.copied.len(), again.unchanged), (0, 2));
    remove(d, "sorry").unwrap();
    assert!(matches!(remove(d, "sorry"), Err(SoundError::NotFound(_))));
    let after = install(d, root.path(), false).unwrap();
    assert_eq!(after.removed, ["sorry.gsm"]);
    assert!(!root
        .path()
        .join("usr/share/asterisk/sounds/oml/sorry.gsm")
        .exists());
}

#[test]
fn campaign_settings_name_uploaded_or_asterisk_sounds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add(d, "welcome", "w.gsm", &gsm(5)).unwrap();
    assert_eq!(campaign_sound(d, " welcome ").unwrap(), "oml/welcome");
    assert_eq!(campaign_sound(d, "oml/welcome").unwrap(), "oml/welcome");
    assert_eq!(campaign_sound(d, "vm-goodbye").unwrap(), "vm-goodbye");
    assert_eq!(campaign_sound(d, "custom/sorry").unwrap(), "custom/sorry");
    assert_eq!(campaign_sound(d, "").unwrap(), "");
    let e = campaign_sound(d, "oml/nope").unwrap_err().to_string();
    assert!(e.contains("no uploaded sound is called `nope`"), "{e}");
}
