//! The `herald` binary, driven as a user drives it: in a temp workspace, through
//! its commands, reading back what it wrote.

mod browser;
mod support;

mod config;
mod console;
mod demo;
mod digests;
mod end_to_end;
mod events;
mod import;
mod migrate;
mod nodes;
mod serve;
mod sms_gateway;
mod smtp;
mod tasks;
mod webhook;
