//! The HTML templates (minijinja, compiled into the binary, HTML-escaped by
//! default for every `.html` template) and the style sheet.
//!
//! `layout.html` is the page every other page extends: navigation for the
//! user's role, flash messages, and the `content` block. `forms.html` holds
//! the macros that draw a field with its inline error.

use crate::WebError;
use minijinja::Environment;

/// The console's own templates: (name, source).
const BUILT_IN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("forms.html", include_str!("../templates/forms.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("setup.html", include_str!("../templates/setup.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("blocked.html", include_str!("../templates/blocked.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("agent.html", include_str!("../templates/agent.html")),
    (
        "agent_preview.html",
        include_str!("../templates/agent_preview.html"),
    ),
    (
        "agent_wrapup.html",
        include_str!("../templates/agent_wrapup.html"),
    ),
];

/// The style sheet, served at `/static/console.css`.
pub const CONSOLE_CSS: &str = include_str!("../static/console.css");

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates plus `extra` (added by other crates). A name
    /// already used is refused: silently replacing a console page (say the
    /// first-run `setup.html`) would break it.
    pub fn new(extra: &[(String, String)]) -> Result<Templates, WebError> {
        let mut env = Environment::new();
        // Escape every `.html` template's output; never turned off.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.add_filter("datetime", |ms: i64| oml_store::format_ms(ms));
        for (name, source) in BUILT_IN {
            env.add_template(name, source)?;
        }
        for (name, source) in extra {
            if env.get_template(name).is_ok() {
                return Err(WebError::Setup(format!(
                    "template `{name}` is already a console template: give the new page another name"
                )));
            }
            env.add_template_owned(name.clone(), source.clone())?;
        }
        Ok(Templates { env })
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, WebError> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_cannot_replace_a_console_template() {
        let e = Templates::new(&[("setup.html".into(), "x".into())])
            .err()
            .expect("refused");
        assert!(e.to_string().contains("setup.html"), "{e}");
        assert!(Templates::new(&[("other.html".into(), "x".into())]).is_ok());
    }
}
