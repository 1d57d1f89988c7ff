//! Pure pacing logic: dialing modes, abandon accounting and a discrete-event simulator.
