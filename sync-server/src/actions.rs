//! Write paths: validate → persist → audit, one `do_*` function per action.

pub mod channels;
