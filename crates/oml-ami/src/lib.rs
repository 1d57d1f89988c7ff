//! Asterisk Manager Interface (AMI): frame codec and async client.
