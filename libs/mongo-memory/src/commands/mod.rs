//! Command dispatch: reads the command name, checks the fields every command
//! shares, and hands the command to the module that owns it.

mod aggregate;
mod collections;
mod count;
mod delete;
mod fields;
mod find;
mod find_and_modify;
mod handshake;
mod indexes;
mod insert;
mod selection;
mod update;

use bson::{Bson, Document};

use crate::error::{CommandError, code};
use crate::state::State;

/// What a command handler gets: the shared state, the target database and the command.
pub struct Request<'a> {
    pub state: &'a State,
    pub db: &'a str,
    pub command: &'a Document,
    pub connection_id: i32,
}

/// Runs a command that arrived as `OP_MSG` (its database is in `$db`).
pub fn run_op_msg(state: &State, connection_id: i32, command: Document) -> Document {
    let db = match command.get("$db") {
        Some(Bson::String(db)) => db.clone(),
        _ => {
            return CommandError::new(
                code::INVALID_NAMESPACE,
                "OP_MSG requests require a $db argument",
            )
            .to_reply();
        }
    };
    run(state, connection_id, &db, command)
}

/// Runs a command that arrived as legacy `OP_QUERY`: only the handshake is allowed there.
pub fn run_op_query(state: &State, connection_id: i32, db: &str, command: Document) -> Document {
    let name = command
        .keys()
        .next()
        .map(String::as_str)
        .unwrap_or_default();
    if !matches!(name, "hello" | "isMaster" | "ismaster") {
        return CommandError::new(
            code::UNSUPPORTED_OP_QUERY_COMMAND,
            format!(
                "Unsupported OP_QUERY command: {name}. The client driver may require an upgrade."
            ),
        )
        .to_reply();
    }
    run(state, connection_id, db, command)
}

fn run(state: &State, connection_id: i32, db: &str, command: Document) -> Document {
    let outcome = if command.keys().next().is_some_and(|name| name == "insert") {
        // An insert stores the documents it was sent rather than copies.
        fields::refuse_transactions(&command).and_then(|()| insert::run(state, db, command))
    } else {
        dispatch(&Request {
            state,
            db,
            command: &command,
            connection_id,
        })
    };
    match outcome {
        Ok(mut reply) => {
            if !reply.contains_key("ok") {
                reply.insert("ok", 1.0);
            }
            reply
        }
        Err(error) => {
            tracing::debug!(%error, "command failed");
            error.to_reply()
        }
    }
}

fn dispatch(request: &Request<'_>) -> Result<Document, CommandError> {
    let Some(name) = request.command.keys().next() else {
        return Err(CommandError::new(code::FAILED_TO_PARSE, "empty command"));
    };
    fields::refuse_transactions(request.command)?;
    match name.as_str() {
        "hello" | "isMaster" | "ismaster" => handshake::hello(request, name),
        "ping" => handshake::ping(request),
        "buildInfo" | "buildinfo" => handshake::build_info(request),
        "endSessions" => handshake::end_sessions(request),
        "update" => update::run(request),
        "delete" => delete::run(request),
        "find" => find::find(request),
        "getMore" => find::get_more(request),
        "killCursors" => find::kill_cursors(request),
        "findAndModify" | "findandmodify" => find_and_modify::run(request, name),
        "count" => count::count(request),
        "distinct" => count::distinct(request),
        "aggregate" => aggregate::run(request),
        "createIndexes" => indexes::create(request),
        "listIndexes" => indexes::list(request),
        "dropIndexes" | "deleteIndexes" => indexes::drop(request, name),
        "create" => collections::create(request),
        "drop" => collections::drop(request),
        "dropDatabase" => collections::drop_database(request),
        "listCollections" => collections::list_collections(request),
        "listDatabases" => collections::list_databases(request),
        "renameCollection" => collections::rename(request),
        other => Err(CommandError::new(
            code::COMMAND_NOT_FOUND,
            format!("no such command: '{other}'"),
        )),
    }
}
