//! Names that reach paths and ref names, and the formats built from them, each written once:
//! agent ids and specs, version tag names, the tag message with its trailers and the commit message.

pub mod id;
pub mod tagmessage;
pub mod tagname;
pub mod treeid;
