//! Chat: the channel sidebar, a channel's messages (from bounded segment documents) and the
//! composer.

pub mod attachments;
pub mod channel_dialog;
pub mod channel_view;
pub mod composer;
pub mod forward_dialog;
pub mod members_panel;
pub mod mentions_panel;
pub mod message_list;
pub mod notify;
pub mod people;
pub mod poll;
pub mod presence;
pub mod read_state;
pub mod search_more;
pub mod search_panel;
pub mod shell;
pub mod sidebar;
pub mod thread_panel;
pub mod uploads;
