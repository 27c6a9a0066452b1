// libpq, PostgreSQL's C client library (Debian: libpq-dev), headers only: the library is
// loaded with dlopen on the first use (see Sources/LeadBridgeStore/Postgres/LibPQ.swift), so
// commands that never open a PostgreSQL ledger start without its library tree. No pkgConfig in
// Package.swift for the same reason (it would add -lpq); the header is found by its path.
#include <postgresql/libpq-fe.h>
