/*
 * rm_plugin_common: the code that rainmaker_presence and rainmaker_revocation would otherwise each
 * carry a copy of (the connection table, the callback registration, the plugin version check),
 * compiled into both modules.
 *
 * Each module holds its own copy of these functions. They are hidden from the dynamic symbol
 * table, so that a module only ever calls its own copy and still exports nothing but the three
 * mosquitto_plugin_* entry points.
 */

#ifndef RM_PLUGIN_COMMON_H
#define RM_PLUGIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

/* The upstream example plugins take UNUSED from the broker's private config.h. */
#define RM_UNUSED(x) (void)(x)

#pragma GCC visibility push(hidden)

/* ------------------------------------------------------------------------------------------ */
/* Connection table: the live connections a plugin tracks, keyed by the broker's struct
 * mosquitto pointer. Chained hash, power-of-two bucket count, grown at load factor 1.
 *
 * An entry is the plugin's own struct, whose FIRST member is a struct rm_conn_link (each plugin
 * checks it with a _Static_assert). The table links and unlinks entries; it allocates and frees
 * only its bucket array, except in rm_conn_table__drop_if and rm_conn_table__free, which hand
 * each entry they take out to the plugin's free function. Functions that return an entry return
 * it as void*, NULL when there is none. */

struct rm_conn_link {
    struct rm_conn_link* next; /* hash bucket chain */
    const struct mosquitto* client;
};

struct rm_conn_table {
    struct rm_conn_link** buckets; /* NULL until rm_conn_table__init succeeds */
    size_t bucket_count;
    size_t count;
};

/* Allocates the first buckets: MOSQ_ERR_SUCCESS or MOSQ_ERR_NOMEM. */
int rm_conn_table__init(struct rm_conn_table* t);

void* rm_conn_table__find(const struct rm_conn_table* t, const struct mosquitto* client);

/* Adds an entry whose link->client is set; the caller has checked that the client has none. If
 * the table cannot grow (out of memory) it keeps its buckets: longer chains, still correct. */
void rm_conn_table__insert(struct rm_conn_table* t, struct rm_conn_link* link);

/* Unlinks and returns the client's entry, which the caller now owns. */
void* rm_conn_table__remove(struct rm_conn_table* t, const struct mosquitto* client);

/* The entry after prev (the first one when prev is NULL), in bucket order; NULL after the last.
 * The table must not change during a walk. */
void* rm_conn_table__next(const struct rm_conn_table* t, const struct rm_conn_link* prev);

/* Unlinks every entry for which drop(entry) is true and passes it to free_entry; returns how
 * many were dropped. */
size_t rm_conn_table__drop_if(
    struct rm_conn_table* t, bool (*drop)(const void* entry), void (*free_entry)(void* entry)
);

/* Passes every entry to free_entry and frees the buckets; the table is then empty and unusable
 * until rm_conn_table__init. Safe on a table whose init failed or never ran (zeroed). */
void rm_conn_table__free(struct rm_conn_table* t, void (*free_entry)(void* entry));

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */

/* One event a plugin listens to. */
struct rm_callback {
    int event;
    MOSQ_FUNC_generic_callback callback;
};

/* Registers every callback with userdata; at the first failure, unregisters them all and
 * returns that error. */
int rm_callbacks__register(
    mosquitto_plugin_id_t* pid, const struct rm_callback* callbacks, size_t count, void* userdata
);

/* Unregistering a callback that was never registered only returns an error, ignored here. */
void rm_callbacks__unregister(
    mosquitto_plugin_id_t* pid, const struct rm_callback* callbacks, size_t count
);

#pragma GCC visibility pop

/* mosquitto_plugin_version (declared in mosquitto_plugin.h, exported) is defined once in
 * rm_plugin_common.c: both plugins speak plugin API v5 only. */

#endif /* RM_PLUGIN_COMMON_H */
