//! What the document store holds that no row names: files of a filing or an upload that failed
//! after they were written (a crash between the file and the row), found at start and removed.

use crate::{Store, StoreError, on_pool};

/// Which rows name stored files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOwner {
    /// `documents/xx/ID`: the row of `application_documents` with that id.
    Document,
    /// `drafts/ID/…`: the draft with that id.
    Draft,
    /// `outputs/NUMBER-RANDOM.pdf`: the output whose `pdf_key` it is (the id is the whole key).
    Output,
}

/// Ids asked about in one statement, at most.
const CHUNK: usize = 500;

impl Store {
    /// Those of `ids` that no row of `owner`'s table has.
    pub async fn unknown_ids(
        &self,
        owner: FileOwner,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let (table, column) = match owner {
            FileOwner::Document => ("application_documents", "id"),
            FileOwner::Draft => ("application_drafts", "id"),
            FileOwner::Output => ("outputs", "pdf_key"),
        };
        let mut unknown = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {column} FROM {table} WHERE {column} IN ({})",
                placeholders.join(", ")
            );
            let known: std::collections::HashSet<String> = on_pool!(self, pool => {
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?.into_iter().collect()
            });
            unknown.extend(chunk.iter().filter(|id| !known.contains(*id)).cloned());
        }
        Ok(unknown)
    }
}
