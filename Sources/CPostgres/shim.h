// libpq, PostgreSQL's C client library (Debian: libpq-dev). The header lives in
// /usr/include/postgresql; pkg-config (libpq) adds that folder to the search path.
#include <libpq-fe.h>
