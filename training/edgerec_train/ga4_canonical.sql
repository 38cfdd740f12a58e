-- edgerec: GA4's BigQuery export → the canonical events table and a catalog,
-- computed inside BigQuery (BigQuery Standard SQL, one multi-statement query).
--
-- It writes what `edgerec-train` writes from a `bq extract` of the same tables
-- (edgerec_train/formats/ga4.py), so a large property need not leave the
-- warehouse as raw JSON: only one narrow row per item of view_item /
-- add_to_cart / purchase does.
--
--   canonical events (schema/event.schema.json): session, visitor, time, type,
--     item, quantity, price, currency, order, event_id, source
--   catalog CSV: id, title, category, brand, price (latest per item_id), read
--     by the plain-CSV catalog importer
--
-- Before running, edit the three places marked EDIT:
--   1. the export dataset (`your-project.analytics_123456789`: a table name
--      cannot be a query parameter);
--   2. and 3. the two Cloud Storage URIs (each needs exactly one `*`: BigQuery
--      shards an export into numbered files).
--
-- Run (named parameters, 'YYYYMMDD', the daily tables' suffixes, inclusive):
--
--   bq query --use_legacy_sql=false \
--     --parameter=start_date:STRING:20250101 --parameter=end_date:STRING:20250331 \
--     < training/edgerec_train/ga4_canonical.sql
--
-- (In the console: Query settings → add the two STRING parameters.) Then:
--
--   gcloud storage cp 'gs://YOUR-BUCKET/edgerec/*' ga4/
--   edgerec-train --products ga4/catalog-000000000000.csv.gz \
--     $(for f in ga4/events-*.csv.gz; do printf -- '--events %s ' "$f"; done) \
--     --out store.edgerec
--
-- Every shard carries its own header; pass each one (--events and --products
-- repeat; a folder of CSV shards is not read as one file). With a product
-- feed of your own (Shopify products CSV, Merchant Center) pass that as
-- --products instead of catalog-*.csv: item_id is then looked up among its
-- ids, SKUs and variant ids.
--
-- What differs from `edgerec-train --events <bq extract folder>`:
--   * event_id: ga4.py hashes the row with BLAKE2b, which BigQuery lacks; here
--     it is SHA-256 of the same fields (event_timestamp, event_name,
--     user_pseudo_id, ga_session_id) + '#' + the item's index. The plain-CSV
--     importer does not read event_id back (it names each row file:line), so
--     duplicates are removed here, by event_id (QUALIFY below).
--   * source: the daily table (`events_20250309`), not file:line.
--   * title, category and brand of items travel in the catalog CSV, not in the
--     events (the canonical events have no such columns).
--   * "latest" name, category and price of an item is by event_timestamp here;
--     ga4.py takes the last one in file order.
--   * a negative or non-finite items.price is left empty here: the plain-CSV
--     importer refuses a negative price (BAD_NUMBER), ga4.py passes it on.
--   * an event_timestamp outside 1995-2100 (a broken clock) is left out here;
--     ga4.py stops the import there with BAD_TIME.
--   * a ga_session_id sent as a double is written as BigQuery casts it
--     (`1741491061`); ga4.py writes Python's `1741491061.0`. Both are one
--     session per (visitor, id), so the sessions are the same.
--
-- Cost: the events_* tables are scanned once (into a temporary table) for the
-- date range; only the columns named below are read. GA4 updates a daily table
-- for up to 3 days with late events: export days that are at least 3 days old.
-- The `ecommerce` record is in every current export; a very old one without it
-- needs the ecommerce.transaction_id line below removed.

-- 1. One row per item of view_item / add_to_cart / purchase, with every field
--    ga4.py derives, before de-duplication.
CREATE TEMP TABLE ga4_items AS
WITH ev AS (
  SELECT
    _TABLE_SUFFIX AS day,
    event_timestamp,
    event_name,
    user_pseudo_id,
    -- ga4.py: user_pseudo_id, else user_id; neither → the event is dropped.
    COALESCE(NULLIF(TRIM(user_pseudo_id), ''), NULLIF(TRIM(user_id), '')) AS visitor,
    -- An event parameter's value, whichever typed field holds it (ga4.py's
    -- param(): int_value, string_value, double_value, float_value; the first
    -- parameter of that key). bq extract writes int_value as a JSON string; here
    -- it is an INT64, cast.
    NULLIF(TRIM((SELECT COALESCE(CAST(p.value.int_value AS STRING), p.value.string_value,
                                 CAST(p.value.double_value AS STRING), CAST(p.value.float_value AS STRING))
                 FROM UNNEST(event_params) AS p WITH OFFSET AS o
                 WHERE p.key = 'ga_session_id' ORDER BY o LIMIT 1)), '') AS session_id,
    UPPER(NULLIF(TRIM((SELECT COALESCE(p.value.string_value, CAST(p.value.int_value AS STRING))
                       FROM UNNEST(event_params) AS p WITH OFFSET AS o
                       WHERE p.key = 'currency' ORDER BY o LIMIT 1)), '')) AS currency,
    -- The order: ecommerce.transaction_id, else the transaction_id parameter.
    COALESCE(NULLIF(TRIM(ecommerce.transaction_id), ''),
             NULLIF(TRIM((SELECT COALESCE(p.value.string_value, CAST(p.value.int_value AS STRING))
                          FROM UNNEST(event_params) AS p WITH OFFSET AS o
                          WHERE p.key = 'transaction_id' ORDER BY o LIMIT 1)), '')) AS transaction_id,
    items
  FROM `your-project.analytics_123456789.events_*`  -- EDIT 1: the GA4 export dataset
  -- Daily tables only: `events_intraday_YYYYMMDD` has the suffix
  -- 'intraday_…', which sorts after every date and so falls outside the range.
  WHERE _TABLE_SUFFIX BETWEEN @start_date AND @end_date
    AND event_name IN ('view_item', 'add_to_cart', 'purchase')
)
SELECT
  ev.day,
  ev.event_timestamp,
  ev.event_name,
  CASE ev.event_name WHEN 'view_item' THEN 'view' WHEN 'add_to_cart' THEN 'cart' ELSE 'purchase' END AS type,
  -- A session: the visitor and GA4's ga_session_id. Without one (consent
  -- mode, old tags) the session is empty and edgerec cuts the visitor's
  -- events after 30 idle minutes instead.
  IF(ev.session_id IS NULL, '', CONCAT('ga4:', ev.visitor, '.', ev.session_id)) AS session,
  CONCAT('ga4:', ev.visitor) AS visitor,
  -- ISO 8601 UTC with milliseconds, as canonical.iso writes it.
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', SAFE.TIMESTAMP_MICROS(ev.event_timestamp), 'UTC') AS time,
  TRIM(it.item_id) AS item,
  -- items.quantity: empty or 0 → 1 (ga4.py: `int(qty) if qty else 1`).
  IF(COALESCE(it.quantity, 0) = 0, 1, it.quantity) AS quantity,
  -- The unit price in the event's currency, written as ga4.py writes it:
  -- at most 4 decimals, trailing zeros dropped (18.5000 → 18.5, 34.0 → 34).
  IF(it.price IS NOT NULL AND NOT IS_NAN(it.price) AND NOT IS_INF(it.price) AND it.price >= 0,
     it.price, NULL) AS price_value,
  ev.currency,
  -- A purchase without a transaction id gets one of its own: visitor@µs.
  IF(ev.event_name = 'purchase',
     IF(ev.transaction_id IS NULL OR ev.transaction_id = '(not set)',
        CONCAT(ev.visitor, '@', CAST(ev.event_timestamp AS STRING)), ev.transaction_id),
     '') AS order_id,
  -- The same event exported twice has the same id: its fields, then the item's index.
  CONCAT(TO_HEX(SUBSTR(SHA256(CONCAT(CAST(ev.event_timestamp AS STRING), '|', ev.event_name, '|',
                                     IFNULL(ev.user_pseudo_id, ''), '|', IFNULL(ev.session_id, ''))), 1, 12)),
         '#', CAST(i AS STRING)) AS event_id,
  -- For the catalog: the item's name, its category path (item_category …
  -- item_category5, '(not set)' and empty levels left out, joined by ' > '),
  -- its brand.
  NULLIF(TRIM(REPLACE(IFNULL(it.item_name, ''), '(not set)', '')), '') AS title,
  NULLIF(ARRAY_TO_STRING(ARRAY(
    SELECT TRIM(c)
    FROM UNNEST([it.item_category, it.item_category2, it.item_category3, it.item_category4,
                 it.item_category5]) AS c WITH OFFSET AS level
    WHERE TRIM(c) NOT IN ('', '(not set)')
    ORDER BY level), ' > '), '') AS category,
  NULLIF(TRIM(REPLACE(IFNULL(it.item_brand, ''), '(not set)', '')), '') AS brand
FROM ev
CROSS JOIN UNNEST(ev.items) AS it WITH OFFSET AS i  -- an empty items[] gives no row
WHERE ev.visitor IS NOT NULL
  AND ev.event_timestamp BETWEEN 788918400000000 AND 4102444800000000  -- 1995-01-01 .. 2100-01-01 (µs)
  AND NULLIF(TRIM(it.item_id), '') IS NOT NULL
  AND TRIM(it.item_id) != '(not set)'
  -- A negative quantity is dropped, as ga4.py drops it.
  AND (it.quantity IS NULL OR it.quantity >= 0);

-- 2. The canonical events, once each (the first copy of an event_id), to
--    Cloud Storage as gzip CSV with a header. NULL exports as an empty field.
EXPORT DATA OPTIONS (
  uri = 'gs://YOUR-BUCKET/edgerec/events-*.csv.gz',  -- EDIT 2
  format = 'CSV', header = true, field_delimiter = ',', compression = 'GZIP', overwrite = true
) AS
SELECT
  session,
  visitor,
  time,
  type,
  item,
  quantity,
  IF(price_value IS NULL, '', RTRIM(RTRIM(FORMAT('%.4f', price_value), '0'), '.')) AS price,
  IFNULL(currency, '') AS currency,
  order_id AS `order`,
  event_id,
  CONCAT('events_', day) AS source
FROM ga4_items
WHERE TRUE  -- (older BigQuery versions want a WHERE beside QUALIFY)
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY day, event_timestamp) = 1;

-- 3. The catalog: one row per item_id that the events name, with its latest
--    non-empty name, category and brand and its latest price (by event
--    time). GA4 says nothing of stock: every item reads as in stock. Items
--    without a name get their id as title, without a category
--    'uncategorised' (canonical.Product.as_json).
EXPORT DATA OPTIONS (
  uri = 'gs://YOUR-BUCKET/edgerec/catalog-*.csv.gz',  -- EDIT 3
  format = 'CSV', header = true, field_delimiter = ',', compression = 'GZIP', overwrite = true
) AS
SELECT
  id,
  IFNULL(title, '') AS title,
  IFNULL(category, '') AS category,
  IFNULL(brand, '') AS brand,
  IF(price_value IS NULL, '', RTRIM(RTRIM(FORMAT('%.4f', price_value), '0'), '.')) AS price
FROM (
  SELECT
    item AS id,
    ARRAY_AGG(title IGNORE NULLS ORDER BY event_timestamp DESC LIMIT 1)[SAFE_OFFSET(0)] AS title,
    ARRAY_AGG(category IGNORE NULLS ORDER BY event_timestamp DESC LIMIT 1)[SAFE_OFFSET(0)] AS category,
    ARRAY_AGG(brand IGNORE NULLS ORDER BY event_timestamp DESC LIMIT 1)[SAFE_OFFSET(0)] AS brand,
    ARRAY_AGG(price_value IGNORE NULLS ORDER BY event_timestamp DESC LIMIT 1)[SAFE_OFFSET(0)] AS price_value
  FROM ga4_items
  GROUP BY item
);
