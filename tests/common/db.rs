//! Throwaway databases on the real PostgreSQL and MariaDB servers: each test creates its
//! own, under a unique name, and the guard drops it even when the test fails.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, MySqlConnection, PgConnection};

/// The variable that enables the tests against real servers.
pub const ENABLE_VAR: &str = "SALES_EXPORTER_TEST_DATABASES";

const POSTGRES_URL_VAR: &str = "SALES_EXPORTER_TEST_POSTGRES_URL";
const MYSQL_URL_VAR: &str = "SALES_EXPORTER_TEST_MYSQL_URL";
const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the server tests run; prints the one-line reason when they do not.
pub fn enabled() -> bool {
    if std::env::var(ENABLE_VAR).as_deref() == Ok("1") {
        return true;
    }
    println!(
        "skipping: set {ENABLE_VAR}=1 to run against PostgreSQL at 127.0.0.1:5432 and \
         MariaDB at 127.0.0.1:3306"
    );
    false
}

/// A database server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL.
    Postgres,
    /// MariaDB (or MySQL).
    MySql,
}

impl Server {
    /// Both servers.
    pub const ALL: [Server; 2] = [Server::Postgres, Server::MySql];

    fn admin_url(self) -> String {
        let (var, default) = match self {
            Server::Postgres => (POSTGRES_URL_VAR, POSTGRES_DEFAULT),
            Server::MySql => (MYSQL_URL_VAR, MYSQL_DEFAULT),
        };
        std::env::var(var).unwrap_or_else(|_| default.to_owned())
    }
}

/// A database created for one test and dropped with the guard.
pub struct TestDatabase {
    /// Its server.
    pub server: Server,
    /// Its name.
    pub name: String,
    /// A URL that connects to it.
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates an empty database with a name no other run uses. Panics, naming the server,
    /// when it cannot be reached: with the tests enabled that is a failure.
    pub async fn create(server: Server, purpose: &str) -> TestDatabase {
        let admin_url = server.admin_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        let name = format!(
            "se_{purpose}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin(server, &admin_url, &format!("CREATE DATABASE {name}")).await;
        TestDatabase {
            server,
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// Runs statements one by one in the database, as an ordinary writable session.
    pub async fn execute_all(&self, statements: &[String]) {
        match self.server {
            Server::Postgres => {
                let mut conn = PgConnection::connect(&self.url).await.expect("connect");
                for statement in statements {
                    conn.execute(statement.as_str())
                        .await
                        .unwrap_or_else(|e| panic!("{statement}: {e}"));
                }
                conn.close().await.expect("close");
            }
            Server::MySql => {
                let mut conn = MySqlConnection::connect(&self.url).await.expect("connect");
                for statement in statements {
                    conn.execute(statement.as_str())
                        .await
                        .unwrap_or_else(|e| panic!("{statement}: {e}"));
                }
                conn.close().await.expect("close");
            }
        }
    }

    /// The first column of the first row of `sql`, as a number.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self.server {
            Server::Postgres => {
                let mut conn = PgConnection::connect(&self.url).await.expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Server::MySql => {
                let mut conn = MySqlConnection::connect(&self.url).await.expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, admin_url) = (self.server, self.admin_url.clone());
        let statement = match server {
            Server::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Server::MySql => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        // Drop may run inside a runtime, which cannot block on another: use a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(admin(server, &admin_url, &statement));
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

async fn admin(server: Server, url: &str, statement: &str) {
    let unreachable = |e: sqlx::Error| -> ! {
        panic!("{server:?} at {url} is unreachable ({e}); start it or unset {ENABLE_VAR}")
    };
    match server {
        Server::Postgres => {
            let mut conn = PgConnection::connect(url)
                .await
                .unwrap_or_else(|e| unreachable(e));
            conn.execute(statement).await.expect(statement);
            conn.close().await.expect("close");
        }
        Server::MySql => {
            let mut conn = MySqlConnection::connect(url)
                .await
                .unwrap_or_else(|e| unreachable(e));
            conn.execute(statement).await.expect(statement);
            conn.close().await.expect("close");
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping any query.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}
