/*
 * migrations.h - the numbered schema steps of the SQLite store (private).
 *
 * Only store_sqlite.c and the store's tests include this.  Step v (1-based)
 * turns a database at PRAGMA user_version v-1 into one at v; steps are
 * append-only: a released step is never edited, a change is a new step.
 */
#ifndef BM_STORE_MIGRATIONS_H
#define BM_STORE_MIGRATIONS_H

/* PRAGMA application_id of a baomi database ("BAOM"). */
#define STORE__APP_ID 0x42414f4d

/* The newest schema version this build knows. */
int store__latest_schema(void);
/* The SQL of step v (1 <= v <= latest), or NULL outside that range. */
const char *store__migration_sql(int v);

#endif
