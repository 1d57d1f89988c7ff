//! Asterisk Manager Interface (AMI): frame codec and async client.
//!
//! Everything `oml` says to Asterisk goes through this crate: the dialer's
//! `Originate`s, regenerate-asterisk's AstDB writes, deploy's checks. It
//! knows the wire protocol and nothing about dialing.
//!
//! # Layers
//! - [`Message`]: one action/response/event, ordered headers, repeated keys,
//!   credentials redacted in `Debug`/`Display`.
//! - [`codec`]: pure frame decoder/encoder ([`FrameDecoder`],
//!   [`encode_message`]) and the `tokio_util` [`AmiCodec`]. Bounded memory:
//!   a frame over `max_frame` bytes is an error.
//! - [`correlate`]: pure ActionID matching ([`Correlator`]) and the send-rate
//!   token bucket.
//! - [`AmiClient`]: the async client.
//! - [`actions`] / [`events`]: builders and typed views of what the product
//!   uses ([`Originate`], [`OriginateOutcome::from_reason`], [`Hangup`]).
//!
//! # Client API
//! ```no_run
//! # async fn demo() -> Result<(), oml_ami::AmiError> {
//! use oml_ami::{AmiClient, ClientConfig, AuthKind, Event, Originate, OriginateResponse};
//! use secrecy::SecretString;
//!
//! let mut cfg = ClientConfig::new("127.0.0.1:5038", "oml", SecretString::from("s3cret"));
//! cfg.auth = AuthKind::Md5;   // or Plain
//! cfg.rate_limit = None;      // default: 100 actions/s, bursts of 10
//! let client = AmiClient::connect(cfg).await?;   // fails on a wrong secret
//! let mut events = client.events();               // subscribe before acting
//!
//! let queued = client
//!     .originate(&Originate::to_extension("Local/5551234@from-oml/n", "oml-campaign", "1"))
//!     .await?;
//! let id = queued.action_id().unwrap().to_owned();
//! while let Ok(ev) = events.recv().await {
//!     match ev {
//!         Event::Ami(m) => {
//!             if let Some(r) = OriginateResponse::from_message(&m) {
//!                 if r.action_id.as_deref() == Some(id.as_str()) {
//!                     println!("outcome {:?}", r.outcome);
//!                     break;
//!                 }
//!             }
//!         }
//!         Event::Disconnected { .. } => {}   // actions fail until...
//!         Event::Reconnected => {}           // ...a new login; resync state
//!     }
//! }
//! client.db_put("OML/CAMP/1", "NAME", "Sales").await?;
//! assert_eq!(client.db_get("OML/CAMP/1", "NAME").await?.as_deref(), Some("Sales"));
//! let members = client.queue_status(Some("sales")).await?;   // QueueParams/QueueMember/QueueEntry events
//! let version = client.command("core show version").await?;  // output lines
//! client.logoff().await?;
//! # let _ = (members, version); Ok(()) }
//! ```
//! `send(Message) -> Response` is the general form: `Response.message` is the
//! `Response:` frame, `Response.events` the list events of list actions
//! (collected until the `...Complete` event, kept in `Response.complete`).

pub mod actions;
pub mod check;
pub mod client;
pub mod codec;
pub mod correlate;
pub mod error;
pub mod events;
pub mod message;

pub use actions::Originate;
pub use client::{AmiClient, AuthKind, Backoff, ClientConfig, Event};
pub use codec::{
    check_message, encode_message, parse_frame, AmiCodec, Frame, FrameDecoder, DEFAULT_MAX_FRAME,
};
pub use correlate::{Correlator, RateLimit, Response, Routed, TokenBucket};
pub use error::{AmiError, FrameError};
pub use events::{Hangup, OriginateOutcome, OriginateResponse};
pub use message::Message;
pub use secrecy::SecretString;
