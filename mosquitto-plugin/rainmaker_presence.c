/*
 * rainmaker_presence: publishes AWS IoT-shaped lifecycle events
 * ($aws/events/presence/{connected,disconnected}/<clientId>) so that rainmaker-server learns
 * which nodes are online, because Mosquitto 2.0 has no connect event of its own.
 *
 * Load it from mosquitto.conf (global section; with per_listener_settings, per listener):
 *     plugin /usr/lib/rainmaker/rainmaker_presence.so
 *     plugin_opt_ignore_username rainmaker-server      # optional, may be repeated
 *     plugin_opt_topic_prefix $aws/events/presence/    # optional, this is the default
 *     plugin_opt_rewrite_basic_ingest true              # optional, default false (see below)
 *
 * Minimum broker version: Mosquitto 2.0 (plugin API v5). Built and tested against 2.0.11.
 *
 * How presence is detected on 2.0 (see README.md for the event format and the limits):
 * - "connected": the first action of a connection, i.e. its first SUBSCRIBE or UNSUBSCRIBE ACL
 *   check or its first accepted PUBLISH (MOSQ_EVT_MESSAGE). 2.0 has no MOSQ_EVT_CONNECT and
 *   does not call MOSQ_EVT_BASIC_AUTH for certificate-identity logins. RainMaker nodes
 *   subscribe right after every CONNACK.
 *   READ and WRITE ACL checks are not used: the broker also makes them for contexts that are
 *   no longer connected (messages queued for an offline persistent session; a will, which is
 *   checked after MOSQ_EVT_DISCONNECT, or seconds later with an MQTT 5 will delay).
 * - "disconnected": MOSQ_EVT_DISCONNECT of a connection that was reported as connected.
 * - The ACL callback always returns MOSQ_ERR_PLUGIN_DEFER: it decides nothing, and the
 *   broker's acl_file (or the next plugin) grants or denies.
 *
 * With rewrite_basic_ingest, a message a client publishes to $aws/rules/<rule>/node/<rest>
 * (the firmware's default "basic ingest" spelling, already allowed by the ACL check) is passed
 * on as node/<rest>: Mosquitto 2.0 never matches a topic starting with '$' against a shared
 * subscription ($share/...), and several server instances take node messages through one.
 */

#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "rm_plugin_common.h"

#define RM_LOG_PREFIX "rainmaker_presence: "

static const char kDefaultTopicPrefix[] = "$aws/events/presence/";

/* MQTT limits a topic to 65535 bytes; longer ones could not be published. */
static const size_t kMaxTopicBytes = 65535;

/* One connection that has acted (subscribed or published) and was reported as connected. */
struct rm_conn {
    struct rm_conn_link link; /* first: the table's key and chain */
    char* client_id;
    char* username; /* "" when the client sent none */
    char* address;
    uint64_t version;
    char session_id[48];
};

_Static_assert(offsetof(struct rm_conn, link) == 0, "rm_conn_table entries start with the link");

/* The last versionNumber handed out for a client id. */
struct rm_version {
    struct rm_version* next;
    uint64_t version;
    char client_id[];
};

struct rm_presence {
    mosquitto_plugin_id_t* pid;
    char* topic_prefix;
    bool rewrite_basic_ingest;
    char** ignored_usernames;
    int ignored_count;
    long long start_ms;
    uint64_t session_counter;

    struct rm_conn_table conns; /* live connections */

    struct rm_version** versions; /* keyed by client id; one entry per id ever seen */
    size_t version_buckets;
    size_t version_count;
};

/* ------------------------------------------------------------------------------------------ */
/* Small growable string: always NUL-terminated, remembers allocation failure.                */

struct rm_buf {
    char* data;
    size_t len;
    size_t cap;
    bool failed;
};

static void rm_buf__append(struct rm_buf* buf, const char* s, size_t n) {
    if (buf->failed) {
        return;
    }
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (buf->len + n + 1 > cap) {
            cap *= 2;
        }
        char* data = mosquitto_realloc(buf->data, cap);
        if (!data) {
            buf->failed = true;
            return;
        }
        buf->data = data;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, s, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

static void rm_buf__append_str(struct rm_buf* buf, const char* s) {
    rm_buf__append(buf, s, strlen(s));
}

/* Appends s as a JSON string literal. The broker has already rejected ids and usernames that
 * are not valid UTF-8, so only quotes, backslashes and control characters need escaping. */
static void rm_buf__append_json_string(struct rm_buf* buf, const char* s) {
    rm_buf__append(buf, "\"", 1);
    for (const unsigned char* c = (const unsigned char*)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            const char esc[2] = {'\\', (char)*c};
            rm_buf__append(buf, esc, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)*c);
            rm_buf__append(buf, esc, 6);
        } else {
            rm_buf__append(buf, (const char*)c, 1);
        }
    }
    rm_buf__append(buf, "\"", 1);
}

/* Appends s as one topic level: '/', '+' and '#' become '_', so the topic stays one level
 * deeper than "<prefix>connected" and valid for PUBLISH. The payload carries the exact id. */
static void rm_buf__append_topic_level(struct rm_buf* buf, const char* s) {
    for (const char* c = s; *c; c++) {
        const char ch = (*c == '/' || *c == '+' || *c == '#') ? '_' : *c;
        rm_buf__append(buf, &ch, 1);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Version table: keyed by client id; chained, power-of-two buckets, grown at load factor 1.  */

static size_t rm_presence__hash_str(const char* s) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return (size_t)h;
}

/* Frees a struct rm_conn (NULL is fine); also the table's free function. */
static void rm_presence__free_conn(void* entry) {
    struct rm_conn* conn = entry;
    if (conn) {
        mosquitto_free(conn->client_id);
        mosquitto_free(conn->username);
        mosquitto_free(conn->address);
        mosquitto_free(conn);
    }
}

static void rm_presence__grow_versions(struct rm_presence* p) {
    const size_t buckets = p->version_buckets * 2;
    struct rm_version** table = mosquitto_calloc(buckets, sizeof(*table));
    if (!table) {
        return;
    }
    for (size_t i = 0; i < p->version_buckets; i++) {
        struct rm_version* v = p->versions[i];
        while (v) {
            struct rm_version* next = v->next;
            const size_t b = rm_presence__hash_str(v->client_id) & (buckets - 1);
            v->next = table[b];
            table[b] = v;
            v = next;
        }
    }
    mosquitto_free(p->versions);
    p->versions = table;
    p->version_buckets = buckets;
}

/* Returns the next versionNumber for client_id (1 for an id not seen since the broker
 * started), or 0 when out of memory. */
static uint64_t rm_presence__next_version(struct rm_presence* p, const char* client_id) {
    const size_t hash = rm_presence__hash_str(client_id);
    for (struct rm_version* v = p->versions[hash & (p->version_buckets - 1)]; v; v = v->next) {
        if (strcmp(v->client_id, client_id) == 0) {
            return ++v->version;
        }
    }
    const size_t id_len = strlen(client_id);
    struct rm_version* v = mosquitto_malloc(sizeof(*v) + id_len + 1);
    if (!v) {
        return 0;
    }
    memcpy(v->client_id, client_id, id_len + 1);
    v->version = 1;
    if (p->version_count >= p->version_buckets) {
        rm_presence__grow_versions(p);
    }
    const size_t b = hash & (p->version_buckets - 1);
    v->next = p->versions[b];
    p->versions[b] = v;
    p->version_count++;
    return v->version;
}

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */

static long long rm_presence__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rm_presence__publish(
    const struct rm_presence* p, const struct rm_conn* conn, const char* event_type
) {
    struct rm_buf topic = {0};
    rm_buf__append_str(&topic, p->topic_prefix);
    rm_buf__append_str(&topic, event_type);
    rm_buf__append(&topic, "/", 1);
    rm_buf__append_topic_level(&topic, conn->client_id);

    char number[32];
    struct rm_buf payload = {0};
    rm_buf__append_str(&payload, "{\"clientId\":");
    rm_buf__append_json_string(&payload, conn->client_id);
    snprintf(number, sizeof(number), "%lld", rm_presence__now_ms());
    rm_buf__append_str(&payload, ",\"timestamp\":");
    rm_buf__append_str(&payload, number);
    rm_buf__append_str(&payload, ",\"eventType\":");
    rm_buf__append_json_string(&payload, event_type);
    rm_buf__append_str(&payload, ",\"sessionIdentifier\":");
    rm_buf__append_json_string(&payload, conn->session_id);
    rm_buf__append_str(&payload, ",\"principalIdentifier\":");
    rm_buf__append_json_string(&payload, conn->username);
    snprintf(number, sizeof(number), "%llu", (unsigned long long)conn->version);
    rm_buf__append_str(&payload, ",\"versionNumber\":");
    rm_buf__append_str(&payload, number);
    rm_buf__append_str(&payload, ",\"ipAddress\":");
    rm_buf__append_json_string(&payload, conn->address);
    rm_buf__append_str(&payload, "}");

    if (topic.failed || payload.failed) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR,
            RM_LOG_PREFIX "out of memory, %s event for %s lost",
            event_type,
            conn->client_id
        );
    } else if (topic.len > kMaxTopicBytes || payload.len > INT_MAX) {
        mosquitto_log_printf(
            MOSQ_LOG_WARNING, RM_LOG_PREFIX "client id too long, %s event lost", event_type
        );
    } else {
        /* The broker copies the message and delivers it from its main loop, after this
         * callback returns; subscribers are ACL-checked (READ) like for any other message. */
        const int rc = mosquitto_broker_publish_copy(
            NULL, topic.data, (int)payload.len, payload.data, 1, false, NULL
        );
        if (rc != MOSQ_ERR_SUCCESS) {
            mosquitto_log_printf(
                MOSQ_LOG_WARNING,
                RM_LOG_PREFIX "publish to %s failed: %s",
                topic.data,
                mosquitto_strerror(rc)
            );
        } else {
            mosquitto_log_printf(MOSQ_LOG_DEBUG, RM_LOG_PREFIX "%s %s", topic.data, payload.data);
        }
    }
    mosquitto_free(topic.data);
    mosquitto_free(payload.data);
}

static bool rm_presence__is_ignored(const struct rm_presence* p, const struct mosquitto* client) {
    const char* username = mosquitto_client_username(client);
    if (!username) {
        return false;
    }
    for (int i = 0; i < p->ignored_count; i++) {
        if (strcmp(username, p->ignored_usernames[i]) == 0) {
            return true;
        }
    }
    return false;
}

static char* rm_presence__strdup_or_empty(const char* s) {
    return mosquitto_strdup(s ? s : "");
}

static void rm_presence__report_connected(struct rm_presence* p, const struct mosquitto* client) {
    const char* client_id = mosquitto_client_id(client);
    if (!client_id) {
        return; /* not expected: the broker sets the id while handling CONNECT */
    }
    struct rm_conn* conn = mosquitto_calloc(1, sizeof(*conn));
    if (conn) {
        conn->link.client = client;
        conn->client_id = mosquitto_strdup(client_id);
        conn->username = rm_presence__strdup_or_empty(mosquitto_client_username(client));
        conn->address = rm_presence__strdup_or_empty(mosquitto_client_address(client));
        conn->version = rm_presence__next_version(p, client_id);
    }
    if (!conn || !conn->client_id || !conn->username || !conn->address || conn->version == 0) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR, RM_LOG_PREFIX "out of memory, %s not reported", client_id
        );
        rm_presence__free_conn(conn);
        return;
    }
    snprintf(
        conn->session_id,
        sizeof(conn->session_id),
        "%lld-%llu",
        p->start_ms,
        (unsigned long long)++p->session_counter
    );
    rm_conn_table__insert(&p->conns, &conn->link);
    rm_presence__publish(p, conn, "connected");
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */

/* Called for each SUBSCRIBE/UNSUBSCRIBE and accepted PUBLISH: reports the connection the first
 * time. */
static void rm_presence__on_client_action(struct rm_presence* p, const struct mosquitto* client) {
    const struct rm_conn* conn = rm_conn_table__find(&p->conns, client);
    if (conn) {
        const char* client_id = mosquitto_client_id(client);
        if (!client_id || strcmp(client_id, conn->client_id) == 0) {
            return;
        }
        /* The broker freed a context without MOSQ_EVT_DISCONNECT and reused its address for
         * another client: end the stale connection before reporting the new one. */
        struct rm_conn* stale = rm_conn_table__remove(&p->conns, client);
        rm_presence__publish(p, stale, "disconnected");
        rm_presence__free_conn(stale);
    }
    if (!rm_presence__is_ignored(p, client)) {
        rm_presence__report_connected(p, client);
    }
}

static int rm_presence__on_acl_check(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    const struct mosquitto_evt_acl_check* ed = event_data;

    /* Only SUBSCRIBE and UNSUBSCRIBE checks come from the client's own packets alone; READ and
     * WRITE checks also run for contexts that are gone (see the top of this file). Accepted
     * PUBLISHes arrive through rm_presence__on_message. */
    if (ed->access == MOSQ_ACL_SUBSCRIBE || ed->access == MOSQ_ACL_UNSUBSCRIBE) {
        rm_presence__on_client_action(userdata, ed->client);
    }
    /* Never decide: the broker's acl_file (or the next plugin) grants or denies. */
    return MOSQ_ERR_PLUGIN_DEFER;
}

/* $aws/rules/<rule>/node/<rest> with a non-empty rule: the offset of node/<rest>; else 0. */
static size_t rm_presence__basic_ingest_tail(const char* topic) {
    static const char kRules[] = "$aws/rules/";
    static const char kNode[] = "node/";
    if (strncmp(topic, kRules, sizeof(kRules) - 1) != 0) {
        return 0;
    }
    const char* rule = topic + sizeof(kRules) - 1;
    const char* slash = strchr(rule, '/');
    if (!slash || slash == rule || strncmp(slash + 1, kNode, sizeof(kNode) - 1) != 0) {
        return 0;
    }
    return (size_t)(slash + 1 - topic);
}

static int rm_presence__on_message(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    struct mosquitto_evt_message* ed = event_data;
    const struct rm_presence* p = userdata;

    /* Called for every PUBLISH the broker accepted from a client, after its ACL check, and never
     * for wills. The broker takes the topic the callbacks leave (Mosquitto 2.0 frees neither the
     * old nor the new one itself: the replaced one is freed here). */
    rm_presence__on_client_action(userdata, ed->client);
    const size_t tail = p->rewrite_basic_ingest ? rm_presence__basic_ingest_tail(ed->topic) : 0;
    if (tail > 0) {
        char* plain = mosquitto_strdup(ed->topic + tail);
        if (!plain) {
            return MOSQ_ERR_NOMEM;
        }
        mosquitto_free(ed->topic);
        ed->topic = plain;
    }
    return MOSQ_ERR_SUCCESS;
}

static int rm_presence__on_disconnect(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    const struct mosquitto_evt_disconnect* ed = event_data;
    struct rm_presence* p = userdata;

    struct rm_conn* conn = rm_conn_table__remove(&p->conns, ed->client);
    if (conn) {
        rm_presence__publish(p, conn, "disconnected");
        rm_presence__free_conn(conn);
    }
    return MOSQ_ERR_SUCCESS;
}

/* The broker run's start, retained at <prefix>run: a subscriber learns at once which run the
 * events it reads belong to, and that connections of earlier runs are gone (their disconnects
 * were never published when the broker stopped or died). */
static int rm_presence__publish_run(const struct rm_presence* p) {
    struct rm_buf topic = {0};
    rm_buf__append_str(&topic, p->topic_prefix);
    rm_buf__append_str(&topic, "run");
    char payload[64];
    const int size = snprintf(payload, sizeof(payload), "{\"runStartedAt\":%lld}", p->start_ms);
    int rc = MOSQ_ERR_NOMEM;
    if (!topic.failed && size > 0 && (size_t)size < sizeof(payload)) {
        rc = mosquitto_broker_publish_copy(NULL, topic.data, size, payload, 1, true, NULL);
    }
    mosquitto_free(topic.data);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Plugin entry points                                                                        */

/* The events this plugin listens to. */
static const struct rm_callback kCallbacks[] = {
    {MOSQ_EVT_ACL_CHECK, rm_presence__on_acl_check},
    {MOSQ_EVT_MESSAGE, rm_presence__on_message},
    {MOSQ_EVT_DISCONNECT, rm_presence__on_disconnect},
};

static const size_t kCallbackCount = sizeof(kCallbacks) / sizeof(kCallbacks[0]);

static void rm_presence__free(struct rm_presence* p) {
    if (!p) {
        return;
    }
    rm_conn_table__free(&p->conns, rm_presence__free_conn);
    for (size_t i = 0; p->versions && i < p->version_buckets; i++) {
        while (p->versions[i]) {
            struct rm_version* next = p->versions[i]->next;
            mosquitto_free(p->versions[i]);
            p->versions[i] = next;
        }
    }
    for (int i = 0; i < p->ignored_count; i++) {
        mosquitto_free(p->ignored_usernames[i]);
    }
    mosquitto_free(p->ignored_usernames);
    mosquitto_free(p->topic_prefix);
    mosquitto_free(p->versions);
    mosquitto_free(p);
}

static int rm_presence__parse_options(
    struct rm_presence* p, const struct mosquitto_opt* options, int option_count
) {
    p->ignored_usernames =
        mosquitto_calloc(option_count > 0 ? (size_t)option_count : 1, sizeof(char*));
    if (!p->ignored_usernames) {
        return MOSQ_ERR_NOMEM;
    }
    for (int i = 0; i < option_count; i++) {
        const char* key = options[i].key;
        const char* value = options[i].value ? options[i].value : "";
        if (strcmp(key, "ignore_username") == 0) {
            p->ignored_usernames[p->ignored_count] = mosquitto_strdup(value);
            if (!p->ignored_usernames[p->ignored_count++]) {
                return MOSQ_ERR_NOMEM;
            }
        } else if (strcmp(key, "rewrite_basic_ingest") == 0) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
                mosquitto_log_printf(
                    MOSQ_LOG_ERR,
                    RM_LOG_PREFIX "plugin_opt_rewrite_basic_ingest must be true or false: %s",
                    value
                );
                return MOSQ_ERR_INVAL;
            }
            p->rewrite_basic_ingest = strcmp(value, "true") == 0;
        } else if (strcmp(key, "topic_prefix") == 0) {
            if (strpbrk(value, "+#")) {
                mosquitto_log_printf(
                    MOSQ_LOG_ERR,
                    RM_LOG_PREFIX "plugin_opt_topic_prefix must not contain '+' or '#': %s",
                    value
                );
                return MOSQ_ERR_INVAL;
            }
            mosquitto_free(p->topic_prefix);
            p->topic_prefix = mosquitto_strdup(value);
            if (!p->topic_prefix) {
                return MOSQ_ERR_NOMEM;
            }
        } else {
            mosquitto_log_printf(
                MOSQ_LOG_WARNING, RM_LOG_PREFIX "unknown option plugin_opt_%s", key
            );
        }
    }
    if (!p->topic_prefix) {
        p->topic_prefix = mosquitto_strdup(kDefaultTopicPrefix);
        if (!p->topic_prefix) {
            return MOSQ_ERR_NOMEM;
        }
    }
    return MOSQ_ERR_SUCCESS;
}

/* mosquitto_plugin_version is in rm_plugin_common.c. */

int mosquitto_plugin_init(
    mosquitto_plugin_id_t* identifier,
    void** userdata,
    struct mosquitto_opt* options,
    int option_count
) {
    enum { kInitialVersionBuckets = 64 };
    struct rm_presence* p = mosquitto_calloc(1, sizeof(*p));
    if (!p) {
        return MOSQ_ERR_NOMEM;
    }
    p->pid = identifier;
    p->start_ms = rm_presence__now_ms();
    int rc = rm_conn_table__init(&p->conns);
    p->version_buckets = kInitialVersionBuckets;
    p->versions = mosquitto_calloc(p->version_buckets, sizeof(*p->versions));
    if (!p->versions) {
        rc = MOSQ_ERR_NOMEM;
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = rm_presence__parse_options(p, options, option_count);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = rm_callbacks__register(identifier, kCallbacks, kCallbackCount, p);
    }
    if (rc == MOSQ_ERR_SUCCESS && rm_presence__publish_run(p) != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, RM_LOG_PREFIX "the run's start was not published");
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        rm_presence__free(p);
        return rc;
    }
    mosquitto_log_printf(
        MOSQ_LOG_INFO,
        RM_LOG_PREFIX
        "publishing presence under %s{connected,disconnected}/, ignoring %d user(s)%s",
        p->topic_prefix,
        p->ignored_count,
        p->rewrite_basic_ingest ? ", $aws/rules/<rule>/node/... passed on as node/..." : ""
    );
    *userdata = p;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt* options, int option_count) {
    RM_UNUSED(options);
    RM_UNUSED(option_count);
    struct rm_presence* p = userdata;
    if (p) {
        rm_callbacks__unregister(p->pid, kCallbacks, kCallbackCount);
        rm_presence__free(p);
    }
    return MOSQ_ERR_SUCCESS;
}
