#!/usr/bin/env bash
# Runs once, when the official postgres image initialises an empty data directory
# (/docker-entrypoint-initdb.d), as the superuser POSTGRES_USER.
#
# Creates Tally's roles and its database (DESIGN.md §3):
#   tally_owner  owns the database and runs the migrations        -> DATABASE_ADMIN_URL
#   tally_app    web and worker; LOGIN NOSUPERUSER NOBYPASSRLS,
#                owns nothing, so row-level security always applies -> DATABASE_URL
#   tally_support  NOLOGIN; support staff's own logins are its members
# The migrations grant tally_app its table rights (grantAppRole in src/db/migrate.ts);
# nothing is granted here beyond connecting.
#
# Passwords come from the environment, never from this file. They end up inside
# postgres:// URLs, so use URL-safe values (e.g. `openssl rand -hex 24`).
#
# No `set -u`: the entrypoint sources this file when it is not executable, and the
# option would then leak into the entrypoint's own shell.
set -eo pipefail

: "${TALLY_OWNER_PASSWORD:?set TALLY_OWNER_PASSWORD}"
: "${TALLY_APP_PASSWORD:?set TALLY_APP_PASSWORD}"

# psql's :'name' interpolation quotes the passwords as literals: no SQL injection through them.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v owner_password="$TALLY_OWNER_PASSWORD" \
  -v app_password="$TALLY_APP_PASSWORD" <<'SQL'
create role tally_owner with login nosuperuser nocreatedb nocreaterole nobypassrls
  password :'owner_password';
create role tally_app with login nosuperuser nocreatedb nocreaterole nobypassrls noinherit
  password :'app_password';

-- The owner owns the database and so (PostgreSQL 15: pg_database_owner) the public schema,
-- where the migrations create every table, policy and the job queue's schema.
create database tally owner tally_owner encoding 'UTF8' template template0;

-- Only Tally's roles (and support logins, as members of tally_support) may connect; PUBLIC's default
-- CONNECT/TEMP on a new database is taken back. tally_app keeps TEMP: ingest stages rows in session temporary
-- tables before it merges them (src/db/staging.ts).
revoke all on database tally from public;
grant connect, temporary on database tally to tally_app;

-- What the owner (NOCREATEROLE, not a superuser) cannot do for itself in its migrations:
-- the support role the migrations grant consent-bound reads to (docs/operations.md, support access),
create role tally_support nologin nosuperuser nocreatedb nocreaterole nobypassrls;
grant connect on database tally to tally_support;
-- and naming the custom setting app.system in a function's SET clause (support_tenants()).
grant set on parameter app.system to tally_owner;
SQL
