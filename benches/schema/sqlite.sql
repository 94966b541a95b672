-- The benchmark sales database on SQLite: the tables of the demo database that
-- `sales_exporter --demo` writes, times as TEXT 'YYYY-MM-DD HH:MM:SS' (UTC). benches/load-data.sh
-- creates the tables, imports the CSV files from salesgen, then creates the indexes.
CREATE TABLE reps (id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE opportunities (id INTEGER PRIMARY KEY, rep_id TEXT, customer TEXT, created_at TEXT NOT NULL, stage TEXT NOT NULL, closed_at TEXT, amount NUMERIC, probability REAL);
CREATE TABLE activities (id INTEGER PRIMARY KEY, rep_id TEXT NOT NULL, occurred_at TEXT NOT NULL, kind TEXT NOT NULL, opportunity_id INTEGER);
CREATE TABLE costs (id INTEGER PRIMARY KEY, incurred_at TEXT NOT NULL, category TEXT NOT NULL, amount NUMERIC NOT NULL, team TEXT);

-- Indexes (created after the load). The exporter reads text times through datetime(), so the
-- indexes are on that expression.
-- Opportunities query: rows created in one of the windows.
CREATE INDEX opportunities_created_at ON opportunities (datetime(created_at));
-- Opportunities query: rows closed (won or lost) in one of the windows.
CREATE INDEX opportunities_closed_at ON opportunities (datetime(closed_at));
-- Opportunities query: the open ones (stage IN the open values), whatever their dates.
CREATE INDEX opportunities_stage ON opportunities (stage);
-- Opportunities query, first-wins subquery: each customer's earliest won close.
CREATE INDEX opportunities_customer_first_win ON opportunities (customer, stage, datetime(closed_at));
-- Calls query: activities that occurred in one of the windows.
CREATE INDEX activities_occurred_at ON activities (datetime(occurred_at));
-- Calls on closed opportunities: the calls of the deals closed in a window (calls per opportunity).
CREATE INDEX activities_opportunity ON activities (opportunity_id);
-- Costs query: costs incurred in one of the windows.
CREATE INDEX costs_incurred_at ON costs (datetime(incurred_at));
