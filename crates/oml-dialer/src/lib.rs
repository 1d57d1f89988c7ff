//! The running dialer: campaigns, their contacts, the hopper of due calls,
//! reschedule rules and call tracking over AMI. `import` holds the pure
//! rules of contact-list import (phone normalisation, column detection,
//! per-row verdicts), used by `oml campaign import` and the console.

pub mod import;
