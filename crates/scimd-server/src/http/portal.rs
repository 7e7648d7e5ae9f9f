//! The operators' and tenants' web portal: server-rendered pages and their static files.

pub(crate) mod assets;
