//! Small helpers shared by the table modules: dynamic `WHERE` clauses, ids, JSON columns.

use std::collections::BTreeMap;

use hush_model::Labels;

use crate::error::SqlError;

/// Rows a list returns when the filter sets no limit.
pub const DEFAULT_LIMIT: u32 = 1000;

/// A value bound to a `$N` placeholder of a dynamically built statement.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

/// Builds `SELECT … WHERE a AND b … ORDER BY … LIMIT $N` with only the conditions a filter
/// sets, so each query shape gets its own plan (a catch-all `$1 IS NULL OR …` defeats indexes on
/// PostgreSQL's generic plans).
#[derive(Debug)]
pub(crate) struct Select {
    sql: String,
    binds: Vec<Bind>,
    conditions: usize,
}

impl Select {
    pub(crate) fn new(base: &str) -> Self {
        Self {
            sql: base.to_owned(),
            binds: Vec::new(),
            conditions: 0,
        }
    }

    /// Adds `AND <column> <op> $N` binding `value`; `column` and `op` are fixed strings.
    pub(crate) fn and(&mut self, column: &str, op: &str, value: Bind) -> &mut Self {
        self.sql.push_str(if self.conditions == 0 {
            " WHERE "
        } else {
            " AND "
        });
        self.conditions += 1;
        self.binds.push(value);
        self.sql
            .push_str(&format!("{column} {op} ${}", self.binds.len()));
        self
    }

    /// Appends the ordering and the limit and hands back the text and its binds.
    pub(crate) fn finish(mut self, order_by: &str, limit: Option<u32>) -> (String, Vec<Bind>) {
        self.binds
            .push(Bind::Int(i64::from(limit.unwrap_or(DEFAULT_LIMIT))));
        self.sql
            .push_str(&format!(" ORDER BY {order_by} LIMIT ${}", self.binds.len()));
        (self.sql, self.binds)
    }
}

/// Binds every value of `$binds` to `$query` in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                $crate::sql::Bind::Text(v) => query.bind(v.clone()),
                $crate::sql::Bind::Int(v) => query.bind(*v),
                $crate::sql::Bind::Float(v) => query.bind(*v),
            };
        }
        query
    }};
}
pub(crate) use bind_all;

/// A new row id: UUID v7, so ids sort by creation time.
pub(crate) fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// Parses a stored id back into a UUID.
pub(crate) fn parse_id(entity: &'static str, id: &str) -> Result<uuid::Uuid, SqlError> {
    uuid::Uuid::parse_str(id).map_err(|e| SqlError::Malformed {
        entity,
        id: id.to_owned(),
        reason: format!("id is not a uuid: {e}"),
    })
}

/// Labels as the JSON object they are stored as (`{"name": "value"}`), which both dialects can
/// query by key later.
pub(crate) fn labels_to_map(labels: &Labels) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// The stored JSON object back into validated labels.
pub(crate) fn labels_from_map(
    entity: &'static str,
    id: &str,
    map: BTreeMap<String, String>,
) -> Result<Labels, SqlError> {
    Labels::from_pairs(map).map_err(|e| SqlError::Malformed {
        entity,
        id: id.to_owned(),
        reason: format!("labels: {e}"),
    })
}

/// Refuses a negative limit-like or empty identifying field up front.
pub(crate) fn require_non_empty(field: &'static str, value: &str) -> Result<(), SqlError> {
    if value.is_empty() {
        return Err(SqlError::Invalid {
            field,
            reason: "must not be empty".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_numbers_placeholders_in_order() {
        let mut s = Select::new("SELECT x FROM t");
        s.and("a", "=", Bind::Text("v".to_owned()))
            .and("b", ">=", Bind::Int(3));
        let (sql, binds) = s.finish("b DESC", Some(5));
        assert_eq!(
            sql,
            "SELECT x FROM t WHERE a = $1 AND b >= $2 ORDER BY b DESC LIMIT $3"
        );
        assert!(matches!(
            binds.as_slice(),
            [Bind::Text(_), Bind::Int(3), Bind::Int(5)]
        ));
    }

    #[test]
    fn select_without_conditions_has_no_where() {
        let (sql, binds) = Select::new("SELECT x FROM t").finish("x", None);
        assert_eq!(sql, "SELECT x FROM t ORDER BY x LIMIT $1");
        assert!(matches!(binds.as_slice(), [Bind::Int(n)] if *n == i64::from(DEFAULT_LIMIT)));
    }

    /// The two dialects' migrations must describe the same tables and columns.
    #[test]
    fn dialect_migrations_agree_on_tables_and_columns() {
        fn shape(sql: &str) -> Vec<(String, Vec<String>)> {
            let mut tables = Vec::new();
            let mut lines = sql.lines();
            while let Some(line) = lines.next() {
                let Some(rest) = line.strip_prefix("CREATE TABLE ") else {
                    continue;
                };
                let name = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let mut columns = Vec::new();
                for body in lines.by_ref() {
                    let body = body.trim();
                    if body.starts_with(')') {
                        break;
                    }
                    let first = body.split_whitespace().next().unwrap_or_default();
                    if first != "PRIMARY" && !first.is_empty() {
                        columns.push(first.to_owned());
                    }
                }
                tables.push((name, columns));
            }
            tables
        }
        let sqlite = shape(include_str!("../migrations/sqlite/0001_initial.sql"));
        let postgres = shape(include_str!("../migrations/postgres/0001_initial.sql"));
        assert_eq!(sqlite.len(), 5);
        assert_eq!(sqlite, postgres);
    }
}
