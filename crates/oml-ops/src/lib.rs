//! Operations: inventory, configuration rendering, regenerate-asterisk, backup/restore, deploy.
