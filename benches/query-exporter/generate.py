#!/usr/bin/env python3
"""Writes postgres.yaml and sqlite.yaml, the query-exporter configurations that compute
sales_exporter's indicators with hand-written SQL, beside this script.

The SQL is what an operator fluent in SQL would deploy with query-exporter: five queries,
one per indicator family, each scanning its table once with conditional aggregates over
the 16 windows (day, week, month, quarter, year, 7d, 30d, 90d; current and previous),
then unpivoted to long form (one row per scope and window, one column per metric). Only
the 16-fold repetition is generated here; run it again after editing a template.

    python3 benches/query-exporter/generate.py
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

# (period, window, lower bound, upper bound), bounds named as in the `b` CTE below. The
# order is sales_exporter's: calendar periods, then rolling ones; current before previous.
WINDOWS = [
    ("day", "current", "day_c", "now"),
    ("day", "previous", "day_p", "day_c"),
    ("week", "current", "week_c", "now"),
    ("week", "previous", "week_p", "week_c"),
    ("month", "current", "month_c", "now"),
    ("month", "previous", "month_p", "month_c"),
    ("quarter", "current", "quarter_c", "now"),
    ("quarter", "previous", "quarter_p", "quarter_c"),
    ("year", "current", "year_c", "now"),
    ("year", "previous", "year_p", "year_c"),
    ("7d", "current", "d7_c", "now"),
    ("7d", "previous", "d7_p", "d7_c"),
    ("30d", "current", "d30_c", "now"),
    ("30d", "previous", "d30_p", "d30_c"),
    ("90d", "current", "d90_c", "now"),
    ("90d", "previous", "d90_p", "d90_c"),
]

# Window bounds relative to the current time in UTC. `year_p` (1 January of last year) is
# always the earliest bound (the 90-day previous window starts 180 days back), so each
# query reads only rows at or after it.
PG_BOUNDS = """b AS (
  SELECT t AS now,
    date_trunc('day', t) AS day_c,         date_trunc('day', t) - interval '1 day' AS day_p,
    date_trunc('week', t) AS week_c,       date_trunc('week', t) - interval '1 week' AS week_p,
    date_trunc('month', t) AS month_c,     date_trunc('month', t) - interval '1 month' AS month_p,
    date_trunc('quarter', t) AS quarter_c, date_trunc('quarter', t) - interval '3 months' AS quarter_p,
    date_trunc('year', t) AS year_c,       date_trunc('year', t) - interval '1 year' AS year_p,
    t - interval '7 days' AS d7_c,         t - interval '14 days' AS d7_p,
    t - interval '30 days' AS d30_c,       t - interval '60 days' AS d30_p,
    t - interval '90 days' AS d90_c,       t - interval '180 days' AS d90_p
  FROM (SELECT now() AT TIME ZONE 'UTC' AS t) AS clock
)"""

# SQLite has no quarter modifier: the quarter starts (month - 1) % 3 months before the
# month does. Weeks start on Monday: six days back, then forward to a Monday.
SQLITE_BOUNDS = """b AS (
  SELECT datetime('now') AS now,
    datetime('now', 'start of day') AS day_c,
    datetime('now', 'start of day', '-1 day') AS day_p,
    datetime('now', 'start of day', '-6 days', 'weekday 1') AS week_c,
    datetime('now', 'start of day', '-6 days', 'weekday 1', '-7 days') AS week_p,
    datetime('now', 'start of month') AS month_c,
    datetime('now', 'start of month', '-1 month') AS month_p,
    datetime('now', 'start of month', printf('-%d months', (strftime('%m', 'now') - 1) % 3)) AS quarter_c,
    datetime('now', 'start of month', printf('-%d months', (strftime('%m', 'now') - 1) % 3 + 3)) AS quarter_p,
    datetime('now', 'start of year') AS year_c,
    datetime('now', 'start of year', '-1 year') AS year_p,
    datetime('now', '-7 days') AS d7_c,   datetime('now', '-14 days') AS d7_p,
    datetime('now', '-30 days') AS d30_c, datetime('now', '-60 days') AS d30_p,
    datetime('now', '-90 days') AS d90_c, datetime('now', '-180 days') AS d90_p
)"""

WON = "o.stage = 'closed_won'"
LOST = "o.stage = 'closed_lost'"
OPEN = "o.stage IN ('prospecting', 'negotiation')"

# Scope of a row of GROUPING SETS ((rep, team), (team), ()); groups without a rep or a
# team (opportunities of no rep, reps missing from `reps`) count for the company only.
PG_SCOPE = "CASE t.g WHEN 0 THEN 'rep' WHEN 2 THEN 'team' ELSE 'company' END"


def pg_having(rep: str, team: str) -> str:
    return (
        f"HAVING NOT (GROUPING({rep}) = 0 AND {rep} IS NULL)\n"
        f"     AND NOT (GROUPING({rep}, {team}) = 2 AND {team} IS NULL)"
    )


def within(column: str, i: int) -> str:
    _, _, lower, upper = WINDOWS[i]
    return f"{column} >= b.{lower} AND {column} < b.{upper}"


def per_window(template: str, column: str, indent: str = "    ") -> str:
    """`template` once per window, with {w} the window condition and {i} its index."""
    return f",\n{indent}".join(
        template.format(w=within(column, i), i=i) for i in range(len(WINDOWS))
    )


def pg_unpivot(columns: list[str], prefix: str = "t.") -> str:
    """A LATERAL VALUES list turning the per-window columns into one row per window."""
    rows = []
    for i, (period, window, _, _) in enumerate(WINDOWS):
        cells = ", ".join(f"{prefix}{c}_{i}" for c in columns)
        rows.append(f"    ('{period}', '{window}', {cells})")
    names = ", ".join(columns)
    return "CROSS JOIN LATERAL (VALUES\n" + ",\n".join(rows) + f'\n  ) AS v(period, "window", {names})'


def sqlite_unpivot(columns: list[str]) -> str:
    """SQLite has no LATERAL: a 16-row window list and one CASE per column."""
    values = ",\n    ".join(
        f"({i}, '{period}', '{window}')" for i, (period, window, _, _) in enumerate(WINDOWS)
    )
    picks = ",\n    ".join(
        "CASE w.i "
        + " ".join(f"WHEN {i} THEN s.{c}_{i}" for i in range(len(WINDOWS)))
        + f" END AS {c}"
        for c in columns
    )
    return values, picks


# ---------------------------------------------------------------- PostgreSQL


def pg_closed() -> str:
    aggregates = per_window(
        f"sum(o.amount) FILTER (WHERE {WON} AND {{w}}) AS revenue_{{i}},\n"
        f"    count(*) FILTER (WHERE {WON} AND {{w}}) AS won_{{i}},\n"
        f"    count(*) FILTER (WHERE {LOST} AND {{w}}) AS lost_{{i}},\n"
        f"    count(DISTINCT o.customer) FILTER (WHERE {WON} AND {{w}}) AS customers_{{i}},\n"
        f"    count(DISTINCT o.customer) FILTER (WHERE {WON} AND o.closed_at = fw.first_closed AND {{w}}) AS new_{{i}},\n"
        f"    avg(extract(epoch FROM o.closed_at - o.created_at)) FILTER (WHERE {WON} AND {{w}}) AS cycle_{{i}},\n"
        f"    sum(c.calls) FILTER (WHERE {{w}}) AS calls_{{i}}",
        "o.closed_at",
    )
    columns = ["revenue", "won", "lost", "customers", "new", "cycle", "calls"]
    return f"""WITH {PG_BOUNDS},
first_win AS (
  SELECT customer, min(closed_at) AS first_closed
  FROM opportunities
  WHERE stage = 'closed_won' AND customer IS NOT NULL
  GROUP BY customer
),
opportunity_calls AS (
  SELECT opportunity_id, count(*) AS calls
  FROM activities
  WHERE kind = 'call' AND opportunity_id IS NOT NULL
  GROUP BY opportunity_id
),
t AS (
  SELECT GROUPING(o.rep_id, r.team) AS g, o.rep_id AS rep, r.team,
    {aggregates}
  FROM opportunities o
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = o.rep_id
  LEFT JOIN first_win fw ON fw.customer = o.customer
  LEFT JOIN opportunity_calls c ON c.opportunity_id = o.id
  WHERE o.stage IN ('closed_won', 'closed_lost') AND o.closed_at >= b.year_p AND o.closed_at < b.now
  GROUP BY GROUPING SETS ((o.rep_id, r.team), (r.team), ())
  {pg_having("o.rep_id", "r.team")}
)
SELECT {PG_SCOPE} AS scope, coalesce(t.rep, '') AS rep, coalesce(t.team, '') AS team,
  v.period, v."window",
  coalesce(v.revenue, 0) AS sales_revenue,
  v.won AS sales_opportunities_won,
  v.lost AS sales_opportunities_lost,
  v.won::float8 / nullif(v.won + v.lost, 0) AS sales_conversion_ratio,
  coalesce(v.revenue, 0) / nullif(v.won, 0) AS sales_average_deal_size,
  coalesce(v.revenue, 0) / nullif(v.customers, 0) AS sales_average_basket,
  v.new AS sales_new_customers,
  v.cycle AS sales_cycle_seconds,
  coalesce(v.calls, 0)::float8 / nullif(v.won + v.lost, 0) AS sales_calls_per_opportunity
FROM t
{pg_unpivot(columns)}"""


def pg_counts(table: str, alias: str, time_column: str, where: str, name: str, metric: str) -> str:
    """Counts per window: per rep first (16 filters a row), then rolled up to teams and
    the company from those few rows (GROUPING SETS straight on the table would evaluate
    the 16 filters once per grouping set)."""
    per_rep = per_window(f"count(*) FILTER (WHERE {{w}}) AS {name}_{{i}}", time_column)
    rollup = per_window(f"sum({name}_{{i}}) AS {name}_{{i}}", "")
    return f"""WITH {PG_BOUNDS},
per_rep AS (
  SELECT {alias}.rep_id AS rep, r.team,
    {per_rep}
  FROM {table} {alias}
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = {alias}.rep_id
  WHERE {where}{time_column} >= b.year_p AND {time_column} < b.now
  GROUP BY {alias}.rep_id, r.team
),
t AS (
  SELECT GROUPING(rep, team) AS g, rep, team,
    {rollup}
  FROM per_rep
  GROUP BY GROUPING SETS ((rep, team), (team), ())
  {pg_having("rep", "team")}
)
SELECT {PG_SCOPE} AS scope, coalesce(t.rep, '') AS rep, coalesce(t.team, '') AS team,
  v.period, v."window", v.{name} AS {metric}
FROM t
{pg_unpivot([name])}"""


def pg_created() -> str:
    return pg_counts("opportunities", "o", "o.created_at", "", "created",
                     "sales_opportunities_created")


def pg_open_pipeline() -> str:
    return f"""SELECT CASE GROUPING(o.rep_id, r.team) WHEN 0 THEN 'rep' WHEN 2 THEN 'team' ELSE 'company' END AS scope,
  coalesce(o.rep_id, '') AS rep, coalesce(r.team, '') AS team,
  count(*) AS sales_open_pipeline_opportunities,
  coalesce(sum(o.amount), 0) AS sales_open_pipeline_amount,
  coalesce(sum(o.amount * o.probability), 0) AS sales_open_pipeline_weighted_amount
FROM opportunities o
LEFT JOIN reps r ON r.id = o.rep_id
WHERE {OPEN}
GROUP BY GROUPING SETS ((o.rep_id, r.team), (r.team), ())
{pg_having("o.rep_id", "r.team")}"""


def pg_calls() -> str:
    return pg_counts("activities", "a", "a.occurred_at", "a.kind = 'call' AND ", "calls",
                     "sales_calls")


def pg_costs() -> str:
    won = per_window(
        f"sum(o.amount) FILTER (WHERE {{w}}) AS revenue_{{i}},\n"
        f"    count(DISTINCT o.customer) FILTER (WHERE o.closed_at = fw.first_closed AND {{w}}) AS new_{{i}}",
        "o.closed_at",
    )
    spend = per_window("sum(amount) FILTER (WHERE {w}) AS cost_{i}", "incurred_at")
    rows = []
    for i, (period, window, _, _) in enumerate(WINDOWS):
        rows.append(
            f"    ('{period}', '{window}', w.revenue_{i}, w.new_{i}, s.cost_{i})"
        )
    unpivot = (
        "CROSS JOIN LATERAL (VALUES\n"
        + ",\n".join(rows)
        + '\n  ) AS v(period, "window", revenue, new, cost)'
    )
    return f"""WITH {PG_BOUNDS},
first_win AS (
  SELECT customer, min(closed_at) AS first_closed
  FROM opportunities
  WHERE stage = 'closed_won' AND customer IS NOT NULL
  GROUP BY customer
),
won AS (
  SELECT GROUPING(r.team) AS g, r.team,
    {won}
  FROM opportunities o
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = o.rep_id
  LEFT JOIN first_win fw ON fw.customer = o.customer
  WHERE {WON} AND o.closed_at >= b.year_p AND o.closed_at < b.now
  GROUP BY ROLLUP (r.team)
  HAVING NOT (GROUPING(r.team) = 0 AND r.team IS NULL)
),
spend AS (
  SELECT GROUPING(team) AS g, team,
    {spend}
  FROM costs
  CROSS JOIN b
  WHERE category IN ('marketing', 'sales') AND incurred_at >= b.year_p AND incurred_at < b.now
  GROUP BY ROLLUP (team)
  HAVING NOT (GROUPING(team) = 0 AND coalesce(team, '') = '')
),
heads AS (
  SELECT GROUPING(team) AS g, team, count(*) AS reps
  FROM reps
  WHERE active
  GROUP BY ROLLUP (team)
  HAVING NOT (GROUPING(team) = 0 AND coalesce(team, '') = '')
),
scopes AS (
  SELECT g, team FROM won UNION SELECT g, team FROM spend UNION SELECT g, team FROM heads
)
SELECT CASE sc.g WHEN 0 THEN 'team' ELSE 'company' END AS scope, '' AS rep,
  coalesce(sc.team, '') AS team, v.period, v."window",
  coalesce(v.revenue, 0) / nullif(h.reps, 0) AS sales_revenue_per_rep,
  coalesce(v.cost, 0) / nullif(v.new, 0) AS sales_acquisition_cost
FROM scopes sc
LEFT JOIN won w ON w.g = sc.g AND w.team IS NOT DISTINCT FROM sc.team
LEFT JOIN spend s ON s.g = sc.g AND s.team IS NOT DISTINCT FROM sc.team
LEFT JOIN heads h ON h.g = sc.g AND h.team IS NOT DISTINCT FROM sc.team
{unpivot}"""


# ---------------------------------------------------------------- SQLite
#
# No GROUPING SETS: each query aggregates once per rep (and per customer where distinct
# customers are counted), materializes that, and adds the team and company rows with
# UNION ALL over it. Amounts and times are compared as stored: the 'YYYY-MM-DD HH:MM:SS'
# text sorts as the times do.


def sqlite_scopes(select_rep: str, select_rollup: str, rep_filter: str = "rep IS NOT NULL") -> str:
    return f"""  SELECT 'rep' AS scope, rep, coalesce(team, '') AS team,
    {select_rep}
  FROM g WHERE {rep_filter} GROUP BY rep, team
  UNION ALL
  SELECT 'team', '', team,
    {select_rollup}
  FROM g WHERE team IS NOT NULL AND team <> '' GROUP BY team
  UNION ALL
  SELECT 'company', '', '',
    {select_rollup}
  FROM g"""


def sqlite_closed() -> str:
    per_customer = per_window(
        f"sum(o.amount) FILTER (WHERE {WON} AND {{w}}) AS revenue_{{i}},\n"
        f"    count(*) FILTER (WHERE {WON} AND {{w}}) AS won_{{i}},\n"
        f"    count(*) FILTER (WHERE {LOST} AND {{w}}) AS lost_{{i}},\n"
        f"    max(o.closed_at = fw.first_closed) FILTER (WHERE {WON} AND {{w}}) AS new_{{i}},\n"
        f"    sum(unixepoch(o.closed_at) - unixepoch(o.created_at)) FILTER (WHERE {WON} AND {{w}}) AS cycle_{{i}},\n"
        f"    sum(c.calls) FILTER (WHERE {{w}}) AS calls_{{i}}",
        "o.closed_at",
    )
    rep = per_window(
        "sum(revenue_{i}) AS revenue_{i}, sum(won_{i}) AS won_{i}, sum(lost_{i}) AS lost_{i},\n"
        "    count(*) FILTER (WHERE won_{i} > 0 AND customer IS NOT NULL) AS customers_{i},\n"
        "    count(*) FILTER (WHERE new_{i} = 1) AS new_{i},\n"
        "    sum(cycle_{i}) AS cycle_{i}, sum(calls_{i}) AS calls_{i}",
        "",
    )
    rollup = per_window(
        "sum(revenue_{i}), sum(won_{i}), sum(lost_{i}),\n"
        "    count(DISTINCT customer) FILTER (WHERE won_{i} > 0),\n"
        "    count(DISTINCT customer) FILTER (WHERE new_{i} = 1),\n"
        "    sum(cycle_{i}), sum(calls_{i})",
        "",
    )
    columns = ["revenue", "won", "lost", "customers", "new", "cycle", "calls"]
    values, picks = sqlite_unpivot(columns)
    return f"""WITH {SQLITE_BOUNDS},
first_win AS (
  SELECT customer, min(closed_at) AS first_closed
  FROM opportunities
  WHERE stage = 'closed_won' AND customer IS NOT NULL
  GROUP BY customer
),
opportunity_calls AS (
  SELECT opportunity_id, count(*) AS calls
  FROM activities
  WHERE kind = 'call' AND opportunity_id IS NOT NULL
  GROUP BY opportunity_id
),
g AS MATERIALIZED (
  SELECT o.rep_id AS rep, r.team, o.customer,
    {per_customer}
  FROM opportunities o
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = o.rep_id
  LEFT JOIN first_win fw ON fw.customer = o.customer
  LEFT JOIN opportunity_calls c ON c.opportunity_id = o.id
  WHERE o.stage IN ('closed_won', 'closed_lost') AND o.closed_at >= b.year_p AND o.closed_at < b.now
  GROUP BY o.rep_id, r.team, o.customer
),
s AS MATERIALIZED (
{sqlite_scopes(rep, rollup)}
),
w(i, period, "window") AS (VALUES
    {values}
),
v AS (
  SELECT s.scope, s.rep, s.team, w.period, w."window",
    {picks}
  FROM s CROSS JOIN w
)
SELECT scope, rep, team, period, "window",
  coalesce(revenue, 0) AS sales_revenue,
  won AS sales_opportunities_won,
  lost AS sales_opportunities_lost,
  1.0 * won / nullif(won + lost, 0) AS sales_conversion_ratio,
  1.0 * coalesce(revenue, 0) / nullif(won, 0) AS sales_average_deal_size,
  1.0 * coalesce(revenue, 0) / nullif(customers, 0) AS sales_average_basket,
  new AS sales_new_customers,
  1.0 * cycle / nullif(won, 0) AS sales_cycle_seconds,
  1.0 * coalesce(calls, 0) / nullif(won + lost, 0) AS sales_calls_per_opportunity
FROM v"""


def sqlite_counts(table_sql: str, time_column: str, where: str, name: str, metric: str) -> str:
    per_rep = per_window(f"count(*) FILTER (WHERE {{w}}) AS {name}_{{i}}", time_column)
    rollup = per_window(f"sum({name}_{{i}})", "")
    values, picks = sqlite_unpivot([name])
    return f"""WITH {SQLITE_BOUNDS},
g AS MATERIALIZED (
  SELECT x.rep_id AS rep, r.team,
    {per_rep}
  FROM {table_sql}
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = x.rep_id
  WHERE {where} AND {time_column} >= b.year_p AND {time_column} < b.now
  GROUP BY x.rep_id, r.team
),
s AS MATERIALIZED (
{sqlite_scopes(per_window(f"sum({name}_{{i}}) AS {name}_{{i}}", ""), rollup)}
),
w(i, period, "window") AS (VALUES
    {values}
)
SELECT s.scope, s.rep, s.team, w.period, w."window",
  {picks.replace(f" END AS {name}", f" END AS {metric}")}
FROM s CROSS JOIN w"""


def sqlite_created() -> str:
    return sqlite_counts(
        "opportunities x", "x.created_at", "x.created_at IS NOT NULL", "created",
        "sales_opportunities_created",
    )


def sqlite_calls() -> str:
    return sqlite_counts(
        "activities x", "x.occurred_at", "x.kind = 'call'", "calls", "sales_calls"
    )


def sqlite_open_pipeline() -> str:
    return f"""WITH g AS MATERIALIZED (
  SELECT o.rep_id AS rep, r.team,
    count(*) AS n, sum(o.amount) AS amount, sum(o.amount * o.probability) AS weighted
  FROM opportunities o
  LEFT JOIN reps r ON r.id = o.rep_id
  WHERE {OPEN}
  GROUP BY o.rep_id, r.team
)
SELECT scope, rep, team,
  n AS sales_open_pipeline_opportunities,
  coalesce(amount, 0) AS sales_open_pipeline_amount,
  coalesce(weighted, 0) AS sales_open_pipeline_weighted_amount
FROM (
{sqlite_scopes("sum(n) AS n, sum(amount) AS amount, sum(weighted) AS weighted", "sum(n), sum(amount), sum(weighted)")}
)"""


def sqlite_costs() -> str:
    won = per_window(
        "sum(o.amount) FILTER (WHERE {w}) AS revenue_{i},\n"
        "    max(o.closed_at = fw.first_closed) FILTER (WHERE {w}) AS new_{i}",
        "o.closed_at",
    )
    team_won = per_window(
        "sum(revenue_{i}) AS revenue_{i}, count(DISTINCT customer) FILTER (WHERE new_{i} = 1) AS new_{i}",
        "",
    )
    company_won = per_window(
        "sum(revenue_{i}), count(DISTINCT customer) FILTER (WHERE new_{i} = 1)", ""
    )
    spend = per_window("sum(amount) FILTER (WHERE {w}) AS cost_{i}", "incurred_at")
    spend_rollup = per_window("sum(cost_{i})", "")
    values, _ = sqlite_unpivot([])
    pick = lambda expr: (
        "CASE w.i " + " ".join(f"WHEN {i} THEN {expr.format(i=i)}" for i in range(len(WINDOWS))) + " END"
    )
    return f"""WITH {SQLITE_BOUNDS},
first_win AS (
  SELECT customer, min(closed_at) AS first_closed
  FROM opportunities
  WHERE stage = 'closed_won' AND customer IS NOT NULL
  GROUP BY customer
),
g AS MATERIALIZED (
  SELECT r.team, o.customer,
    {won}
  FROM opportunities o
  CROSS JOIN b
  LEFT JOIN reps r ON r.id = o.rep_id
  LEFT JOIN first_win fw ON fw.customer = o.customer
  WHERE {WON} AND o.closed_at >= b.year_p AND o.closed_at < b.now
  GROUP BY r.team, o.customer
),
won AS MATERIALIZED (
  SELECT 'team' AS scope, team,
    {team_won}
  FROM g WHERE team IS NOT NULL AND team <> '' GROUP BY team
  UNION ALL
  SELECT 'company', '',
    {company_won}
  FROM g
),
spent AS MATERIALIZED (
  SELECT coalesce(team, '') AS team,
    {spend}
  FROM costs
  CROSS JOIN b
  WHERE category IN ('marketing', 'sales') AND incurred_at >= b.year_p AND incurred_at < b.now
  GROUP BY coalesce(team, '')
),
spend AS (
  SELECT 'team' AS scope, team, {", ".join(f"cost_{i}" for i in range(len(WINDOWS)))}
  FROM spent WHERE team <> ''
  UNION ALL
  SELECT 'company', '',
    {spend_rollup}
  FROM spent
),
heads AS (
  SELECT 'team' AS scope, team, count(*) AS reps FROM reps WHERE active AND team <> '' GROUP BY team
  UNION ALL
  SELECT 'company', '', count(*) FROM reps WHERE active
),
scopes AS (
  SELECT scope, team FROM won UNION SELECT scope, team FROM spend UNION SELECT scope, team FROM heads
),
w(i, period, "window") AS (VALUES
    {values}
)
SELECT sc.scope, '' AS rep, sc.team, w.period, w."window",
  1.0 * coalesce({pick("wo.revenue_{i}")}, 0) / nullif(h.reps, 0) AS sales_revenue_per_rep,
  1.0 * coalesce({pick("sp.cost_{i}")}, 0) / nullif({pick("wo.new_{i}")}, 0) AS sales_acquisition_cost
FROM scopes sc
CROSS JOIN w
LEFT JOIN won wo ON wo.scope = sc.scope AND wo.team = sc.team
LEFT JOIN spend sp ON sp.scope = sc.scope AND sp.team = sc.team
LEFT JOIN heads h ON h.scope = sc.scope AND h.team = sc.team"""


# ---------------------------------------------------------------- YAML

WINDOWED = ["scope", "rep", "team", "period", "window"]
METRICS = [
    # name, description, labels
    ("sales_revenue", "Sum of the amounts of opportunities won with a close time in the window", WINDOWED),
    ("sales_opportunities_created", "Opportunities created in the window", WINDOWED),
    ("sales_opportunities_won", "Opportunities won with a close time in the window", WINDOWED),
    ("sales_opportunities_lost", "Opportunities lost with a close time in the window", WINDOWED),
    ("sales_conversion_ratio", "Won over won plus lost, of opportunities closed in the window", WINDOWED),
    ("sales_revenue_per_rep", "Revenue over the active reps in scope (team and company)", WINDOWED),
    ("sales_calls", "Call activities in the window", WINDOWED),
    ("sales_calls_per_opportunity", "Calls logged against the opportunities closed in the window, per such opportunity", WINDOWED),
    ("sales_average_basket", "Revenue over the distinct customers with a win closed in the window", WINDOWED),
    ("sales_new_customers", "Customers whose first won opportunity closed in the window", WINDOWED),
    ("sales_acquisition_cost", "Marketing and sales costs in the window per new customer (team and company)", WINDOWED),
    ("sales_average_deal_size", "Revenue over opportunities won in the window", WINDOWED),
    ("sales_cycle_seconds", "Mean time from creation to close of opportunities won in the window", WINDOWED),
    ("sales_open_pipeline_opportunities", "Open opportunities now", ["scope", "rep", "team"]),
    ("sales_open_pipeline_amount", "Sum of the amounts of the open opportunities now", ["scope", "rep", "team"]),
    ("sales_open_pipeline_weighted_amount", "Sum of the amounts of the open opportunities weighted by their win probability", ["scope", "rep", "team"]),
]

QUERIES = [
    # name, metrics, PostgreSQL SQL, SQLite SQL
    (
        "closed",
        ["sales_revenue", "sales_opportunities_won", "sales_opportunities_lost",
         "sales_conversion_ratio", "sales_average_deal_size", "sales_average_basket",
         "sales_new_customers", "sales_cycle_seconds", "sales_calls_per_opportunity"],
        pg_closed, sqlite_closed,
    ),
    ("created", ["sales_opportunities_created"], pg_created, sqlite_created),
    (
        "open_pipeline",
        ["sales_open_pipeline_opportunities", "sales_open_pipeline_amount",
         "sales_open_pipeline_weighted_amount"],
        pg_open_pipeline, sqlite_open_pipeline,
    ),
    ("calls", ["sales_calls"], pg_calls, sqlite_calls),
    ("costs", ["sales_revenue_per_rep", "sales_acquisition_cost"], pg_costs, sqlite_costs),
]

HEADER = """# query-exporter configuration computing sales_exporter's indicators on {backend}
# with hand-written SQL (written by generate.py beside this file: edit that, not this).
#
# Environment (query-exporter reads `!env` tags when it loads the file):
#   SALES_DSN             SQLAlchemy URL, e.g. {example}
#   SALES_QUERY_INTERVAL  seconds (or 30s, 5m) between two runs of each query
# Listen address: query-exporter's own --host/--port options (or QE_HOST/QE_PORT).
#
# Every windowed metric carries scope (rep, team, company), rep, team (empty where they
# do not apply), period and window labels; query-exporter adds `database`.
# Windows are computed in SQL from the current time in UTC. Ratios whose denominator is
# zero are NULL in SQL, which query-exporter exports as 0 (it has no way to leave out one
# metric of a row).
"""


def yaml_config(backend: str) -> str:
    example = {
        "postgres": "postgresql://postgres@127.0.0.1:5432/sales",
        "sqlite": "sqlite:////var/lib/crm/sales.sqlite",
    }[backend]
    out = [HEADER.format(backend="PostgreSQL" if backend == "postgres" else "SQLite", example=example)]
    out.append("databases:\n  sales:\n    dsn: !env SALES_DSN\n")
    if backend == "postgres":
        out.append("    connect-sql:\n      - SET default_transaction_read_only = on\n")
    out.append("\nmetrics:\n")
    for name, description, labels in METRICS:
        out.append(f"  {name}:\n    type: gauge\n    description: {description}\n")
        out.append(f"    labels: [{', '.join(labels)}]\n")
    out.append("\nqueries:\n")
    for name, metrics, pg, lite in QUERIES:
        sql = pg() if backend == "postgres" else lite()
        body = "\n".join(("      " + line).rstrip() for line in sql.splitlines())
        out.append(f"  {name}:\n    databases: [sales]\n")
        out.append("    interval: !env SALES_QUERY_INTERVAL\n")
        out.append(f"    metrics: [{', '.join(metrics)}]\n")
        out.append(f"    sql: |\n{body}\n")
    return "".join(out)


def main() -> None:
    for backend in ("postgres", "sqlite"):
        (HERE / f"{backend}.yaml").write_text(yaml_config(backend))


if __name__ == "__main__":
    main()
