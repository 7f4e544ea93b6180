//! Who is asking: sessions, bearer tokens, passwords and CSRF protection.

pub mod csrf;
pub mod device;
pub use trellis_app::passwords;
pub mod session;

pub use csrf::CsrfToken;
pub use session::{CurrentUser, MaybeUser};
