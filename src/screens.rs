//! The sub-modules of the product and who may open each: the access crate's, re-exported.

pub use crmconnect_access::screens::*;
