/*
 * rm_plugin_common: the code that rainmaker_presence and rainmaker_revocation would otherwise each
 * carry a copy of; see rm_plugin_common.h.
 */

#include "rm_plugin_common.h"

#include <stdint.h>

/* ------------------------------------------------------------------------------------------ */
/* Connection table                                                                           */

static size_t rm_conn_table__hash(const struct mosquitto* client) {
    uint64_t x = (uint64_t)(uintptr_t)client;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static struct rm_conn_link** rm_conn_table__bucket(
    const struct rm_conn_table* t, const struct mosquitto* client
) {
    return &t->buckets[rm_conn_table__hash(client) & (t->bucket_count - 1)];
}

int rm_conn_table__init(struct rm_conn_table* t) {
    enum { kInitialBuckets = 64 };

    t->buckets = mosquitto_calloc(kInitialBuckets, sizeof(*t->buckets));
    t->bucket_count = t->buckets ? kInitialBuckets : 0;
    t->count = 0;
    return t->buckets ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
}

void* rm_conn_table__find(const struct rm_conn_table* t, const struct mosquitto* client) {
    struct rm_conn_link* link = *rm_conn_table__bucket(t, client);
    while (link && link->client != client) {
        link = link->next;
    }
    return link;
}

static void rm_conn_table__grow(struct rm_conn_table* t) {
    const size_t bucket_count = t->bucket_count * 2;
    struct rm_conn_link** buckets = mosquitto_calloc(bucket_count, sizeof(*buckets));
    if (!buckets) {
        return; /* keep the old table: longer chains, still correct */
    }
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct rm_conn_link* link = t->buckets[i];
        while (link) {
            struct rm_conn_link* next = link->next;
            const size_t b = rm_conn_table__hash(link->client) & (bucket_count - 1);
            link->next = buckets[b];
            buckets[b] = link;
            link = next;
        }
    }
    mosquitto_free(t->buckets);
    t->buckets = buckets;
    t->bucket_count = bucket_count;
}

void rm_conn_table__insert(struct rm_conn_table* t, struct rm_conn_link* link) {
    if (t->count >= t->bucket_count) {
        rm_conn_table__grow(t);
    }
    struct rm_conn_link** bucket = rm_conn_table__bucket(t, link->client);
    link->next = *bucket;
    *bucket = link;
    t->count++;
}

void* rm_conn_table__remove(struct rm_conn_table* t, const struct mosquitto* client) {
    struct rm_conn_link** link = rm_conn_table__bucket(t, client);
    while (*link && (*link)->client != client) {
        link = &(*link)->next;
    }
    struct rm_conn_link* removed = *link;
    if (removed) {
        *link = removed->next;
        removed->next = NULL;
        t->count--;
    }
    return removed;
}

void* rm_conn_table__next(const struct rm_conn_table* t, const struct rm_conn_link* prev) {
    if (prev && prev->next) {
        return prev->next;
    }
    size_t i = prev ? (rm_conn_table__hash(prev->client) & (t->bucket_count - 1)) + 1 : 0;
    while (i < t->bucket_count && !t->buckets[i]) {
        i++;
    }
    return i < t->bucket_count ? t->buckets[i] : NULL;
}

size_t rm_conn_table__drop_if(
    struct rm_conn_table* t, bool (*drop)(const void* entry), void (*free_entry)(void* entry)
) {
    size_t dropped = 0;
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct rm_conn_link** link = &t->buckets[i];
        while (*link) {
            struct rm_conn_link* entry = *link;
            if (drop(entry)) {
                *link = entry->next;
                t->count--;
                dropped++;
                free_entry(entry);
            } else {
                link = &entry->next;
            }
        }
    }
    return dropped;
}

void rm_conn_table__free(struct rm_conn_table* t, void (*free_entry)(void* entry)) {
    for (size_t i = 0; t->buckets && i < t->bucket_count; i++) {
        while (t->buckets[i]) {
            struct rm_conn_link* next = t->buckets[i]->next;
            free_entry(t->buckets[i]);
            t->buckets[i] = next;
        }
    }
    mosquitto_free(t->buckets);
    t->buckets = NULL;
    t->bucket_count = 0;
    t->count = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */

int rm_callbacks__register(
    mosquitto_plugin_id_t* pid, const struct rm_callback* callbacks, size_t count, void* userdata
) {
    for (size_t i = 0; i < count; i++) {
        const int rc = mosquitto_callback_register(
            pid, callbacks[i].event, callbacks[i].callback, NULL, userdata
        );
        if (rc != MOSQ_ERR_SUCCESS) {
            rm_callbacks__unregister(pid, callbacks, count);
            return rc;
        }
    }
    return MOSQ_ERR_SUCCESS;
}

void rm_callbacks__unregister(
    mosquitto_plugin_id_t* pid, const struct rm_callback* callbacks, size_t count
) {
    for (size_t i = 0; i < count; i++) {
        mosquitto_callback_unregister(pid, callbacks[i].event, callbacks[i].callback, NULL);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Plugin entry point                                                                         */

int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}
