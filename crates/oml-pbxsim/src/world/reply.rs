//! The reply builders every action handler uses (a response, a list event,
//! the list's closing event), each carrying the action's ActionID. They sit
//! below the handlers so that every handler file imports them, and none
//! imports another handler for them.

use oml_ami::Message;

pub(super) fn reply(status: &str, id: Option<&str>) -> Message {
    let m = Message::response(status);
    match id {
        Some(i) => m.with("ActionID", i),
        None => m,
    }
}

pub(super) fn list_event(name: &str, id: Option<&str>) -> Message {
    let m = Message::event(name);
    match id {
        Some(i) => m.with("ActionID", i),
        None => m,
    }
}

pub(super) fn complete(name: &str, id: Option<&str>, items: usize) -> Message {
    list_event(name, id)
        .with("EventList", "Complete")
        .with("ListItems", items.to_string())
}
