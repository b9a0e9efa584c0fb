//! Clients: the [`SqliteStore`] implementation of [`ClientStore`] and the `clients` row codec.

use async_trait::async_trait;
use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, ResourceUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{
    ClientKind, ClientRecord, ClientStore, Entity, SecretHashString, StoreError,
};
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::codec::{list, opt_time, parse_list, parsed, scope, time};
use crate::columns::Columns;
use crate::error::db;
use crate::point_reads;
use crate::statement::execute;

const E: Entity = Entity::Client;

/// The columns of `clients`, in bind order `?1`…`?15`.
macro_rules! client_columns {
    () => {
        "client_id, kind, fetched_at, cache_expires_at, secret_hash, secret_expires_at, \
         redirect_uris, grant_types, token_endpoint_auth_method, application_type, client_name, \
         allowed_resources, allowed_scope, metadata_json, created_at"
    };
}

/// Every column but the key, set from the bind parameters.
macro_rules! client_assignments {
    () => {
        "kind = ?2, fetched_at = ?3, cache_expires_at = ?4, secret_hash = ?5, \
         secret_expires_at = ?6, redirect_uris = ?7, grant_types = ?8, \
         token_endpoint_auth_method = ?9, application_type = ?10, client_name = ?11, \
         allowed_resources = ?12, allowed_scope = ?13, metadata_json = ?14, created_at = ?15"
    };
}

/// A client record as column values.
struct Encoded {
    record: ClientRecord,
    kind: &'static str,
    fetched_at: Option<i64>,
    cache_expires_at: Option<i64>,
    redirect_uris: String,
    grant_types: String,
    allowed_resources: Option<String>,
}

impl Encoded {
    /// Encodes the list- and enum-valued fields; the rest is bound straight from the record.
    fn new(record: ClientRecord) -> Result<Self, StoreError> {
        let (kind, fetched_at, cache_expires_at) = match &record.kind {
            ClientKind::Dynamic => ("dynamic", None, None),
            ClientKind::PreRegistered => ("pre_registered", None, None),
            ClientKind::MetadataDocument {
                fetched_at,
                expires_at,
            } => (
                "metadata_document",
                Some(fetched_at.as_i64()),
                Some(expires_at.as_i64()),
            ),
            _ => {
                return Err(StoreError::corrupt(
                    E,
                    "a client kind this backend cannot store",
                ));
            }
        };
        let redirect_uris = list(E, record.redirect_uris.iter().map(|u| u.as_str()))?;
        let grant_types = list(E, record.grant_types.iter().map(|g| g.as_str()))?;
        let allowed_resources = record
            .allowed_resources
            .as_ref()
            .map(|resources| list(E, resources.iter().map(|r| r.as_str())))
            .transpose()?;
        Ok(Self {
            record,
            kind,
            fetched_at,
            cache_expires_at,
            redirect_uris,
            grant_types,
            allowed_resources,
        })
    }

    /// Runs `sql` with the 15 columns bound as `?1`…`?15`; the number of rows it changed.
    fn execute(&self, conn: &Connection, sql: &str) -> Result<u64, StoreError> {
        let r = &self.record;
        execute(
            conn,
            E,
            sql,
            params![
                r.client_id.as_str(),
                self.kind,
                self.fetched_at,
                self.cache_expires_at,
                r.secret_hash.as_ref().map(SecretHashString::secret),
                r.secret_expires_at.map(|t| t.as_i64()),
                self.redirect_uris.as_str(),
                self.grant_types.as_str(),
                r.token_endpoint_auth_method.as_str(),
                r.application_type.as_str(),
                r.client_name.as_deref(),
                self.allowed_resources.as_deref(),
                r.allowed_scope.as_ref().map(ToString::to_string),
                r.metadata_json.as_str(),
                r.created_at.as_i64(),
            ],
        )
    }
}

/// A client from a row of [`client_columns!`], from either SQLite library.
fn decode(row: &impl Columns) -> Result<ClientRecord, StoreError> {
    let kind = match row.text(1, E)? {
        "dynamic" => ClientKind::Dynamic,
        "pre_registered" => ClientKind::PreRegistered,
        "metadata_document" => {
            let fetched_at = row.opt_int(2, E)?;
            let expires_at = row.opt_int(3, E)?;
            match (fetched_at, expires_at) {
                (Some(fetched_at), Some(expires_at)) => ClientKind::MetadataDocument {
                    fetched_at: time(E, "fetched_at", fetched_at)?,
                    expires_at: time(E, "cache_expires_at", expires_at)?,
                },
                _ => {
                    return Err(StoreError::corrupt(
                        E,
                        "metadata document client without cache times",
                    ));
                }
            }
        }
        _ => return Err(StoreError::corrupt(E, "column kind: unknown client kind")),
    };
    let allowed_resources = row.opt_text(11, E)?;
    let allowed_scope = row.opt_text(12, E)?;
    let secret_hash = row.opt_text(4, E)?;
    Ok(ClientRecord {
        client_id: parsed(E, "client_id", ClientId::parse(row.text(0, E)?))?,
        kind,
        secret_hash: secret_hash
            .map(|phc| parsed(E, "secret_hash", SecretHashString::parse(phc)))
            .transpose()?,
        secret_expires_at: opt_time(E, "secret_expires_at", row.opt_int(5, E)?)?,
        redirect_uris: parse_list(E, "redirect_uris", row.text(6, E)?, RedirectUri::parse)?,
        grant_types: parse_list(E, "grant_types", row.text(7, E)?, |g| {
            Ok::<_, std::convert::Infallible>(GrantType::from(g))
        })?,
        token_endpoint_auth_method: TokenEndpointAuthMethod::from(row.text(8, E)?),
        application_type: ApplicationType::from(row.text(9, E)?),
        client_name: row.opt_text(10, E)?.map(str::to_owned),
        allowed_resources: allowed_resources
            .map(|text| parse_list(E, "allowed_resources", text, ResourceUri::parse))
            .transpose()?,
        allowed_scope: allowed_scope
            .map(|text| scope(E, "allowed_scope", text))
            .transpose()?,
        metadata_json: row.text(13, E)?.to_owned(),
        created_at: time(E, "created_at", row.int(14, E)?)?,
    })
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn insert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let encoded = Encoded::new(client)?;
        self.write(move |conn| {
            encoded
                .execute(
                    conn,
                    concat!(
                        "INSERT INTO clients (",
                        client_columns!(),
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                    ),
                )
                .map(drop)
        })
        .await
    }

    async fn upsert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let encoded = Encoded::new(client)?;
        self.write(move |conn| {
            encoded
                .execute(
                    conn,
                    concat!(
                        "INSERT INTO clients (",
                        client_columns!(),
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                         ON CONFLICT (client_id) DO UPDATE SET ",
                        client_assignments!()
                    ),
                )
                .map(drop)
        })
        .await
    }

    async fn update_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let encoded = Encoded::new(client)?;
        self.write(move |conn| {
            let changed = encoded.execute(
                conn,
                concat!(
                    "UPDATE clients SET ",
                    client_assignments!(),
                    " WHERE client_id = ?1"
                ),
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound { entity: E });
            }
            Ok(())
        })
        .await
    }

    async fn get_client(&self, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE client_id = ?1"
        );
        if let Some(result) = self.point_read(|conn| {
            point_reads::first_row(conn, E, SQL, [client_id.as_str()], |row| decode(row))
        }) {
            return result;
        }
        let row = sqlx::query(SQL)
            .bind(client_id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(db(E))?;
        row.as_ref().map(decode).transpose()
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let client_id = client_id.clone();
        self.write(move |conn| {
            let deleted = execute(
                conn,
                E,
                "DELETE FROM clients WHERE client_id = ?1",
                params![client_id.as_str()],
            )?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients ORDER BY client_id"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(db(E))?;
        rows.iter().map(decode).collect()
    }
}
