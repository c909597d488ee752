//! HTML pages, one file per page or small family of pages.

pub mod account;
pub mod admin;
pub mod apply;
pub mod bills;
pub mod counter;
pub mod desk;
pub mod developers;
pub mod errors;
pub mod exchange;
pub mod home;
pub mod language;
pub mod mine;
pub mod my_bills;
pub mod pay;
pub mod portal;
pub mod refunds;
pub mod signin;
pub mod statement;
pub mod till;
pub mod track;
