//! The two drivers behind one set of statements: SQL values ([`Cell`]) converted for SQLite and
//! PostgreSQL, and a driver's failure turned into [`CallsError::CallStore`] naming what the store
//! was doing (never the SQL text, which an HTTP answer must not carry).

use crate::calls::CallsError;
use crate::error::Error;

/// One SQL value, for either driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => t.as_deref(),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => *i,
            Cell::Real(r) => r.map(|r| r as i64),
            Cell::Bool(b) => b.map(i64::from),
            Cell::Text(_) => None,
        }
    }

    pub fn real(&self) -> Option<f64> {
        match self {
            Cell::Real(r) => *r,
            Cell::Int(i) => i.map(|i| i as f64),
            _ => None,
        }
    }

    pub fn boolean(&self) -> Option<bool> {
        match self {
            Cell::Bool(b) => *b,
            Cell::Int(i) => i.map(|i| i != 0),
            _ => None,
        }
    }
}

/// A driver's error with what the store was doing, kept as the source.
pub fn db<E: std::error::Error + Send + Sync + 'static>(operation: &'static str) -> impl Fn(E) -> Error {
    move |e| CallsError::CallStore { operation, message: e.to_string(), source: Some(Box::new(e)) }.into()
}

/// Bound by reference: no value is copied on its way into a statement.
impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Text(Some(t)) => ValueRef::Text(t.as_bytes()),
            Cell::Int(Some(i)) => ValueRef::Integer(*i),
            Cell::Real(Some(r)) => ValueRef::Real(*r),
            Cell::Bool(Some(b)) => ValueRef::Integer(i64::from(*b)),
            _ => ValueRef::Null,
        }))
    }
}

pub fn sqlite_value(c: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match c {
        Cell::Text(Some(t)) => V::Text(t.clone()),
        Cell::Int(Some(i)) => V::Integer(*i),
        Cell::Real(Some(r)) => V::Real(*r),
        Cell::Bool(Some(b)) => V::Integer(i64::from(*b)),
        _ => V::Null,
    }
}

pub fn sqlite_cell(v: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => Cell::Text(None),
        V::Integer(i) => Cell::Int(Some(i)),
        V::Real(r) => Cell::Real(Some(r)),
        V::Text(t) | V::Blob(t) => Cell::Text(Some(String::from_utf8_lossy(t).into_owned())),
    }
}

pub fn pg_params(params: &[Cell]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|c| -> Box<dyn postgres::types::ToSql + Sync> {
            match c {
                Cell::Text(t) => Box::new(t.clone()),
                Cell::Int(i) => Box::new(*i),
                Cell::Real(r) => Box::new(*r),
                Cell::Bool(b) => Box::new(*b),
            }
        })
        .collect()
}

pub fn pg_cells(row: &postgres::Row) -> Vec<Cell> {
    use postgres::types::Type;
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, col)| match *col.type_() {
            Type::INT8 | Type::INT4 | Type::INT2 => Cell::Int(
                row.try_get::<_, Option<i64>>(i)
                    .or_else(|_| row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)))
                    .unwrap_or(None),
            ),
            Type::FLOAT8 | Type::FLOAT4 => Cell::Real(row.try_get::<_, Option<f64>>(i).unwrap_or(None)),
            Type::BOOL => Cell::Bool(row.try_get::<_, Option<bool>>(i).unwrap_or(None)),
            Type::VOID => Cell::Text(None),
            _ => Cell::Text(row.try_get::<_, Option<String>>(i).unwrap_or(None)),
        })
        .collect()
}
