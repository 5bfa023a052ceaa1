/*
 * rainmaker_revocation: makes the revocation of a node certificate take effect at once, without
 * restarting the broker: it keeps the revoked serial numbers of the listener's CRL, denies every
 * ACL check of a client whose certificate is revoked, disconnects that client, and re-reads the
 * CRL on every reload (SIGHUP).
 *
 * Load it in the node listener's section (per_listener_settings true), BEFORE the presence plugin,
 * so that a revoked node's first SUBSCRIBE is denied before rainmaker_presence reports it:
 *     crlfile /var/lib/rainmaker/broker/crl.pem
 *     require_certificate true
 *     use_identity_as_username true
 *     use_username_as_clientid true
 *     acl_file /var/lib/rainmaker/broker/nodes.acl
 *     plugin /usr/lib/rainmaker/rainmaker_revocation.so
 *     plugin_opt_crl_file /var/lib/rainmaker/broker/crl.pem     # the listener's crlfile
 *     plugin_opt_ca_file /var/lib/rainmaker/broker/ca.pem       # optional: verify the CRL
 *     plugin /usr/lib/rainmaker/rainmaker_presence.so
 *     plugin_opt_ignore_username rainmaker-server
 *
 * Minimum broker version: Mosquitto 2.0 (plugin API v5). Built and tested against 2.0.11.
 *
 * Why a plugin (README.md has the details and the limits):
 * - On SIGHUP, 2.0.11 reloads the CRL for new TLS handshakes, but it leaves open the connections
 *   of certificates revoked since they connected. If the CRL cannot be read at that moment, it
 *   even goes on without any CRL. This plugin closes the live connections and keeps its previous
 *   list when the file is bad.
 * - The plugin API cannot list the connected clients, so the plugin keeps a table of the
 *   connections it has seen in ACL checks (with their certificate serial), keyed by the broker's
 *   struct mosquitto pointer and emptied on MOSQ_EVT_DISCONNECT. On reload it kicks every
 *   connection of the table whose serial is now revoked.
 * - A client is kicked from an ACL check only for SUBSCRIBE and UNSUBSCRIBE, which 2.0.11 makes
 *   only while handling that client's own packet. READ and WRITE checks are only denied: the
 *   broker also makes them inside other work (for each subscriber while it delivers a message;
 *   for the will of a connection that another one is taking over, inside the new CONNECT), and
 *   nothing in the plugin API says that disconnecting the client there is safe.
 * - No MOSQ_EVT_TICK: 2.0.11 does not send it to plugins loaded in a listener.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "rm_plugin_common.h"

#define RM_LOG_PREFIX "rainmaker_revocation: "

/* A certificate serial number as the DER content of its INTEGER: big-endian magnitude, no
 * padding (OpenSSL strips it when parsing), plus the sign. Compared as bytes, never as text. */
struct rm_serial {
    const unsigned char* data;
    size_t len;
    bool negative;
};

/* The revoked serials of the CRL file, sorted by rm_serial__cmp; one allocation each. */
struct rm_revoked_set {
    struct rm_serial* serials;
    size_t count;
};

/* One connection seen in an ACL check with a client certificate. */
struct rm_conn {
    struct rm_conn_link link; /* first: the table's key and chain */
    const char* client_id;    /* points into bytes */
    struct rm_serial serial;  /* data points into bytes */
    bool denial_logged;
    bool kicked;
    bool closed; /* kicked and disconnected: kept until the next reload, see on_disconnect */
    unsigned char bytes[]; /* serial, then the NUL-terminated client id */
};

_Static_assert(offsetof(struct rm_conn, link) == 0, "rm_conn_table entries start with the link");

struct rm_revocation {
    mosquitto_plugin_id_t* pid;
    char* crl_file;
    X509* ca; /* NULL unless plugin_opt_ca_file is set */
    struct rm_revoked_set revoked;
    bool kicking; /* inside mosquitto_kick_client_by_clientid: never kick again from there */

    struct rm_conn_table conns; /* seen in ACL checks; closed ones until the next reload */
    size_t closed_count;        /* entries with closed set */
};

/* ------------------------------------------------------------------------------------------ */
/* Serial numbers                                                                             */

static struct rm_serial rm_serial__of(const ASN1_INTEGER* i) {
    const struct rm_serial s = {
        .data = ASN1_STRING_get0_data(i),
        .len = (size_t)ASN1_STRING_length(i),
        .negative = ASN1_STRING_type(i) == V_ASN1_NEG_INTEGER,
    };
    return s;
}

/* A total order (sign, then length, then bytes): enough for sorting and binary search. */
static int rm_serial__cmp(const struct rm_serial* a, const struct rm_serial* b) {
    if (a->negative != b->negative) {
        return a->negative ? -1 : 1;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return a->len == 0 ? 0 : memcmp(a->data, b->data, a->len);
}

static int rm_serial__qsort_cmp(const void* a, const void* b) {
    return rm_serial__cmp(a, b);
}

static bool rm_serial__equal(const struct rm_serial* a, const struct rm_serial* b) {
    return rm_serial__cmp(a, b) == 0;
}

/* Formats a serial as upper-case hex, as `openssl x509 -serial` prints it; only for logs. */
static void rm_serial__to_hex(const struct rm_serial* s, char* out, size_t out_size) {
    static const char kDigits[] = "0123456789ABCDEF";
    size_t n = 0;
    if (s->negative && n + 1 < out_size) {
        out[n++] = '-';
    }
    for (size_t i = 0; i < s->len && n + 2 < out_size; i++) {
        out[n++] = kDigits[s->data[i] >> 4];
        out[n++] = kDigits[s->data[i] & 0x0f];
    }
    out[n] = '\0';
}

static void rm_revoked_set__free(struct rm_revoked_set* set) {
    for (size_t i = 0; i < set->count; i++) {
        mosquitto_free((void*)set->serials[i].data);
    }
    mosquitto_free(set->serials);
    set->serials = NULL;
    set->count = 0;
}

static bool rm_revoked_set__contains(const struct rm_revoked_set* set, const struct rm_serial* s) {
    size_t lo = 0;
    size_t hi = set->count;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = rm_serial__cmp(&set->serials[mid], s);
        if (c == 0) {
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading the CRL                                                                            */

/* Copies OpenSSL's oldest queued error into err and empties this thread's error queue. The
 * broker shares the queue and reads it after SSL_read/SSL_write, so nothing may be left in it. */
static void rm_revocation__take_openssl_error(char* err, size_t err_size, const char* what) {
    const unsigned long code = ERR_peek_error();
    if (code != 0) {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof(reason));
        snprintf(err, err_size, "%s: %s", what, reason);
    } else {
        snprintf(err, err_size, "%s", what);
    }
    ERR_clear_error();
}

/* Adds the serials of one CRL to the growing array *serials (capacity *cap). */
static int rm_revocation__add_serials(
    X509_CRL* crl, struct rm_serial** serials, size_t* count, size_t* cap
) {
    const STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl);
    const int n = entries ? sk_X509_REVOKED_num(entries) : 0;
    for (int i = 0; i < n; i++) {
        const struct rm_serial s =
            rm_serial__of(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i)));
        if (*count == *cap) {
            const size_t new_cap = *cap ? *cap * 2 : 16;
            struct rm_serial* grown = mosquitto_realloc(*serials, new_cap * sizeof(**serials));
            if (!grown) {
                return MOSQ_ERR_NOMEM;
            }
            *serials = grown;
            *cap = new_cap;
        }
        unsigned char* data = mosquitto_malloc(s.len ? s.len : 1);
        if (!data) {
            return MOSQ_ERR_NOMEM;
        }
        if (s.len) {
            memcpy(data, s.data, s.len);
        }
        (*serials)[(*count)++] =
            (struct rm_serial){.data = data, .len = s.len, .negative = s.negative};
    }
    return MOSQ_ERR_SUCCESS;
}

/* Checks that the CRL was issued and signed by the configured CA. */
static bool rm_revocation__crl_is_from_ca(X509_CRL* crl, X509* ca, char* err, size_t err_size) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0) {
        snprintf(err, err_size, "a CRL in the file was not issued by the CA of plugin_opt_ca_file");
        return false;
    }
    EVP_PKEY* key = X509_get0_pubkey(ca);
    if (!key || X509_CRL_verify(crl, key) != 1) {
        rm_revocation__take_openssl_error(err, err_size, "CRL signature does not verify");
        return false;
    }
    return true;
}

/* Reads every PEM CRL in path into *out (sorted, without duplicates). Returns MOSQ_ERR_SUCCESS,
 * MOSQ_ERR_NOT_FOUND when the file does not exist, or another error with a message in err. */
static int rm_revocation__read_crl_file(
    const char* path, X509* ca, struct rm_revoked_set* out, char* err, size_t err_size
) {
    FILE* file = fopen(path, "r");
    if (!file) {
        const int e = errno;
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? MOSQ_ERR_NOT_FOUND : MOSQ_ERR_UNKNOWN;
    }
    BIO* bio = BIO_new_fp(file, BIO_CLOSE);
    if (!bio) {
        fclose(file);
        rm_revocation__take_openssl_error(err, err_size, "out of memory");
        return MOSQ_ERR_NOMEM;
    }

    struct rm_revoked_set set = {0};
    size_t cap = 0;
    int crl_count = 0;
    int rc = MOSQ_ERR_SUCCESS;
    for (;;) {
        X509_CRL* crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        if (!crl) {
            /* The end of the file reads as "no start line"; anything else is a broken file. */
            const unsigned long code = ERR_peek_last_error();
            if (crl_count > 0 && ERR_GET_LIB(code) == ERR_LIB_PEM &&
                ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
            } else {
                rm_revocation__take_openssl_error(err, err_size, "not a PEM CRL file");
                rc = MOSQ_ERR_INVAL;
            }
            break;
        }
        crl_count++;
        if (ca && !rm_revocation__crl_is_from_ca(crl, ca, err, err_size)) {
            rc = MOSQ_ERR_INVAL;
        } else {
            rc = rm_revocation__add_serials(crl, &set.serials, &set.count, &cap);
            if (rc == MOSQ_ERR_NOMEM) {
                snprintf(err, err_size, "out of memory");
            }
        }
        X509_CRL_free(crl);
        if (rc != MOSQ_ERR_SUCCESS) {
            break;
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    if (rc != MOSQ_ERR_SUCCESS) {
        rm_revoked_set__free(&set);
        return rc;
    }

    if (set.count > 1) {
        qsort(set.serials, set.count, sizeof(*set.serials), rm_serial__qsort_cmp);
        size_t kept = 1;
        for (size_t i = 1; i < set.count; i++) {
            if (rm_serial__equal(&set.serials[i], &set.serials[kept - 1])) {
                mosquitto_free((void*)set.serials[i].data);
            } else {
                set.serials[kept++] = set.serials[i];
            }
        }
        set.count = kept;
    }
    *out = set;
    return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Connection table (the table itself is rm_conn_table, in rm_plugin_common.c)                */

/* Unlinks and returns the client's entry, keeping closed_count right. */
static struct rm_conn* rm_revocation__remove_conn(
    struct rm_revocation* r, const struct mosquitto* client
) {
    struct rm_conn* conn = rm_conn_table__remove(&r->conns, client);
    if (conn && conn->closed) {
        r->closed_count--;
    }
    return conn;
}

static bool rm_revocation__is_closed(const void* entry) {
    const struct rm_conn* conn = entry;
    return conn->closed;
}

/* Forgets the connections kicked before the last reload. */
static void rm_revocation__drop_closed(struct rm_revocation* r) {
    if (r->closed_count > 0) {
        r->closed_count -=
            rm_conn_table__drop_if(&r->conns, rm_revocation__is_closed, mosquitto_free);
    }
}

/* Returns the table entry of this connection, adding it (or replacing a stale entry whose
 * pointer the broker has reused) as needed; NULL when out of memory. */
static struct rm_conn* rm_revocation__track(
    struct rm_revocation* r,
    const struct mosquitto* client,
    const char* client_id,
    const struct rm_serial* serial
) {
    struct rm_conn* conn = rm_conn_table__find(&r->conns, client);
    if (conn) {
        if (!conn->closed && rm_serial__equal(&conn->serial, serial) &&
            strcmp(conn->client_id, client_id) == 0) {
            return conn;
        }
        /* A new connection at the address of a closed one (a closed one has no certificate any
         * more), or a context freed without MOSQ_EVT_DISCONNECT and its address reused. */
        mosquitto_free(rm_revocation__remove_conn(r, client));
    }

    const size_t id_len = strlen(client_id);
    conn = mosquitto_malloc(sizeof(*conn) + serial->len + id_len + 1);
    if (!conn) {
        return NULL;
    }
    memset(conn, 0, sizeof(*conn));
    conn->link.client = client;
    if (serial->len) {
        memcpy(conn->bytes, serial->data, serial->len);
    }
    conn->serial =
        (struct rm_serial){.data = conn->bytes, .len = serial->len, .negative = serial->negative};
    memcpy(conn->bytes + serial->len, client_id, id_len + 1);
    conn->client_id = (const char*)conn->bytes + serial->len;
    rm_conn_table__insert(&r->conns, &conn->link);
    return conn;
}

/* ------------------------------------------------------------------------------------------ */
/* Kicking                                                                                    */

/* Disconnects the client with this id, without its will. The broker sends MOSQ_EVT_DISCONNECT
 * before this returns. Callers pass their own copy of the id: the broker frees the context's. */
static void rm_revocation__kick(struct rm_revocation* r, const char* client_id) {
    r->kicking = true;
    const int rc = mosquitto_kick_client_by_clientid(client_id, false);
    r->kicking = false;
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(
            MOSQ_LOG_WARNING,
            RM_LOG_PREFIX "could not disconnect %s: %s",
            client_id,
            mosquitto_strerror(rc)
        );
    }
}

static void rm_revocation__log_revoked(const struct rm_conn* conn, const char* action) {
    char hex[2 * 64 + 2];
    rm_serial__to_hex(&conn->serial, hex, sizeof(hex));
    mosquitto_log_printf(
        MOSQ_LOG_NOTICE,
        RM_LOG_PREFIX "%s %s: certificate serial %s is revoked",
        action,
        conn->client_id,
        hex
    );
}

/* True when a live connection with this client id holds a certificate that is not revoked:
 * the id belongs to it (a device that reconnected with its new certificate), so no kick by
 * that id may be sent. */
static bool rm_revocation__id_has_valid_conn(const struct rm_revocation* r, const char* id) {
    for (const struct rm_conn* c = rm_conn_table__next(&r->conns, NULL); c;
         c = rm_conn_table__next(&r->conns, &c->link)) {
        if (!c->closed && strcmp(c->client_id, id) == 0 &&
            !rm_revoked_set__contains(&r->revoked, &c->serial)) {
            return true;
        }
    }
    return false;
}

/* An entry kicked at an earlier reload and never disconnected is stale: its context went away
 * without MOSQ_EVT_DISCONNECT. Dropped here, so that its id is never kicked again. */
static bool rm_revocation__is_stale(const void* entry) {
    const struct rm_conn* conn = entry;
    return conn->kicked && !conn->closed;
}

static void rm_revocation__drop_stale(struct rm_revocation* r) {
    rm_conn_table__drop_if(&r->conns, rm_revocation__is_stale, mosquitto_free);
}

static bool rm_revocation__to_kick(const struct rm_revocation* r, const struct rm_conn* c) {
    return !c->closed && rm_revoked_set__contains(&r->revoked, &c->serial) &&
           !rm_revocation__id_has_valid_conn(r, c->client_id);
}

/* Kicks every tracked connection whose certificate is revoked. The ids are collected first, so
 * that nothing the broker does during a kick can change the table under the loop. */
static void rm_revocation__kick_revoked(struct rm_revocation* r) {
    rm_revocation__drop_stale(r);
    size_t count = 0;
    for (const struct rm_conn* c = rm_conn_table__next(&r->conns, NULL); c;
         c = rm_conn_table__next(&r->conns, &c->link)) {
        count += rm_revocation__to_kick(r, c) ? 1 : 0;
    }
    if (count == 0) {
        return;
    }
    char** ids = mosquitto_calloc(count, sizeof(*ids));
    if (!ids) {
        mosquitto_log_printf(MOSQ_LOG_ERR, RM_LOG_PREFIX "out of memory, no client disconnected");
        return;
    }
    size_t n = 0;
    for (struct rm_conn* c = rm_conn_table__next(&r->conns, NULL); c;
         c = rm_conn_table__next(&r->conns, &c->link)) {
        if (n < count && rm_revocation__to_kick(r, c)) {
            rm_revocation__log_revoked(c, "disconnecting");
            c->denial_logged = true;
            c->kicked = true;
            ids[n++] = mosquitto_strdup(c->client_id);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i]) {
            rm_revocation__kick(r, ids[i]);
        } else {
            mosquitto_log_printf(MOSQ_LOG_ERR, RM_LOG_PREFIX "out of memory, a client not kicked");
        }
        mosquitto_free(ids[i]);
    }
    mosquitto_free(ids);
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */

static int rm_revocation__on_acl_check(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    const struct mosquitto_evt_acl_check* ed = event_data;
    struct rm_revocation* r = userdata;

    /* No certificate: a client of a listener without certificates, or a context whose TLS
     * session is gone (a will checked after the disconnect, a message queued for an offline
     * session). The acl_file decides, unless this plugin kicked that context. */
    X509* cert = mosquitto_client_certificate(ed->client);
    if (!cert) {
        const struct rm_conn* closed =
            r->closed_count > 0 ? rm_conn_table__find(&r->conns, ed->client) : NULL;
        return closed && closed->closed ? MOSQ_ERR_ACL_DENIED : MOSQ_ERR_PLUGIN_DEFER;
    }
    const struct rm_serial serial = rm_serial__of(X509_get0_serialNumber(cert));
    const char* client_id = mosquitto_client_id(ed->client);
    /* The broker never calls ACL checks without an id; a context without one is not tracked. */
    struct rm_conn* conn =
        client_id ? rm_revocation__track(r, ed->client, client_id, &serial) : NULL;
    const bool revoked = r->revoked.count > 0 && rm_revoked_set__contains(&r->revoked, &serial);
    X509_free(cert);
    if (!revoked) {
        return MOSQ_ERR_PLUGIN_DEFER;
    }
    if (!conn) {
        return MOSQ_ERR_ACL_DENIED; /* out of memory: deny, and do not kick */
    }

    const bool own_packet = ed->access == MOSQ_ACL_SUBSCRIBE || ed->access == MOSQ_ACL_UNSUBSCRIBE;
    if (own_packet && !conn->kicked && !r->kicking) {
        rm_revocation__log_revoked(conn, "disconnecting");
        conn->denial_logged = true;
        conn->kicked = true;
        char* id = mosquitto_strdup(conn->client_id);
        if (id) {
            rm_revocation__kick(r, id); /* marks conn closed through on_disconnect */
            mosquitto_free(id);
        }
    } else if (!conn->denial_logged) {
        rm_revocation__log_revoked(conn, "denying every request of");
        conn->denial_logged = true;
    }
    return MOSQ_ERR_ACL_DENIED;
}

/* A kicked connection stays in the table, marked closed, until the next reload: the broker goes
 * on with its context after the kick. A persistent session keeps it, and the rest of a SUBSCRIBE
 * packet is still handled, now without a certificate. Those checks must be denied too, or the
 * acl_file would grant the other filters of the packet and the presence plugin would report the
 * closed connection as connected. */
static int rm_revocation__on_disconnect(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    const struct mosquitto_evt_disconnect* ed = event_data;
    struct rm_revocation* r = userdata;
    struct rm_conn* conn = rm_conn_table__find(&r->conns, ed->client);
    if (conn && conn->kicked) {
        if (!conn->closed) {
            conn->closed = true;
            r->closed_count++;
        }
    } else if (conn) {
        mosquitto_free(rm_revocation__remove_conn(r, ed->client));
    }
    return MOSQ_ERR_SUCCESS;
}

static int rm_revocation__on_reload(int event, void* event_data, void* userdata) {
    RM_UNUSED(event);
    RM_UNUSED(event_data);
    struct rm_revocation* r = userdata;

    rm_revocation__drop_closed(r);
    struct rm_revoked_set set = {0};
    char err[512] = "";
    const int rc = rm_revocation__read_crl_file(r->crl_file, r->ca, &set, err, sizeof(err));
    if (rc == MOSQ_ERR_SUCCESS) {
        rm_revoked_set__free(&r->revoked);
        r->revoked = set;
        mosquitto_log_printf(
            MOSQ_LOG_INFO,
            RM_LOG_PREFIX "reloaded %s: %zu revoked serial(s)",
            r->crl_file,
            r->revoked.count
        );
    } else {
        mosquitto_log_printf(
            MOSQ_LOG_ERR,
            RM_LOG_PREFIX "reload: %s; keeping the previous %zu revoked serial(s)",
            err,
            r->revoked.count
        );
    }
    rm_revocation__kick_revoked(r);
    /* 2.0.11 stops a listener's reload at the first callback that returns anything but DEFER;
     * an error there also skips re-registering the acl_file check on every listener. */
    return MOSQ_ERR_PLUGIN_DEFER;
}

/* ------------------------------------------------------------------------------------------ */
/* Plugin entry points                                                                        */

/* The events this plugin listens to. */
static const struct rm_callback kCallbacks[] = {
    {MOSQ_EVT_ACL_CHECK, rm_revocation__on_acl_check},
    {MOSQ_EVT_DISCONNECT, rm_revocation__on_disconnect},
    {MOSQ_EVT_RELOAD, rm_revocation__on_reload},
};

static const size_t kCallbackCount = sizeof(kCallbacks) / sizeof(kCallbacks[0]);

static void rm_revocation__free(struct rm_revocation* r) {
    if (!r) {
        return;
    }
    rm_conn_table__free(&r->conns, mosquitto_free);
    rm_revoked_set__free(&r->revoked);
    X509_free(r->ca);
    mosquitto_free(r->crl_file);
    mosquitto_free(r);
}

static int rm_revocation__read_ca(struct rm_revocation* r, const char* path) {
    FILE* file = fopen(path, "r");
    if (!file) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR,
            RM_LOG_PREFIX "cannot open plugin_opt_ca_file %s: %s",
            path,
            strerror(errno)
        );
        return MOSQ_ERR_INVAL;
    }
    r->ca = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    if (!r->ca) {
        char err[256];
        rm_revocation__take_openssl_error(err, sizeof(err), "not a PEM certificate");
        mosquitto_log_printf(MOSQ_LOG_ERR, RM_LOG_PREFIX "plugin_opt_ca_file %s: %s", path, err);
        return MOSQ_ERR_INVAL;
    }
    ERR_clear_error();
    return MOSQ_ERR_SUCCESS;
}

static int rm_revocation__parse_options(
    struct rm_revocation* r, const struct mosquitto_opt* options, int option_count
) {
    const char* ca_file = NULL;
    for (int i = 0; i < option_count; i++) {
        const char* key = options[i].key;
        const char* value = options[i].value ? options[i].value : "";
        if (strcmp(key, "crl_file") == 0) {
            mosquitto_free(r->crl_file);
            r->crl_file = mosquitto_strdup(value);
            if (!r->crl_file) {
                return MOSQ_ERR_NOMEM;
            }
        } else if (strcmp(key, "ca_file") == 0) {
            ca_file = value;
        } else {
            mosquitto_log_printf(
                MOSQ_LOG_WARNING, RM_LOG_PREFIX "unknown option plugin_opt_%s", key
            );
        }
    }
    if (!r->crl_file || !*r->crl_file) {
        mosquitto_log_printf(
            MOSQ_LOG_ERR, RM_LOG_PREFIX "plugin_opt_crl_file is required (the listener's crlfile)"
        );
        return MOSQ_ERR_INVAL;
    }
    return ca_file && *ca_file ? rm_revocation__read_ca(r, ca_file) : MOSQ_ERR_SUCCESS;
}

/* At start a missing file is an empty list (the broker refuses to start on a missing crlfile
 * anyway); a file that exists but cannot be read or verified stops the broker. */
static int rm_revocation__initial_load(struct rm_revocation* r) {
    char err[512] = "";
    const int rc = rm_revocation__read_crl_file(r->crl_file, r->ca, &r->revoked, err, sizeof(err));
    if (rc == MOSQ_ERR_NOT_FOUND) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, RM_LOG_PREFIX "%s; no serial revoked yet", err);
        return MOSQ_ERR_SUCCESS;
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_ERR, RM_LOG_PREFIX "%s", err);
    }
    return rc;
}

/* mosquitto_plugin_version is in rm_plugin_common.c. */

int mosquitto_plugin_init(
    mosquitto_plugin_id_t* identifier,
    void** userdata,
    struct mosquitto_opt* options,
    int option_count
) {
    struct rm_revocation* r = mosquitto_calloc(1, sizeof(*r));
    if (!r) {
        return MOSQ_ERR_NOMEM;
    }
    r->pid = identifier;
    int rc = rm_conn_table__init(&r->conns);
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = rm_revocation__parse_options(r, options, option_count);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = rm_revocation__initial_load(r);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = rm_callbacks__register(identifier, kCallbacks, kCallbackCount, r);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        rm_revocation__free(r);
        return rc;
    }
    mosquitto_log_printf(
        MOSQ_LOG_INFO,
        RM_LOG_PREFIX "%zu revoked serial(s) from %s%s",
        r->revoked.count,
        r->crl_file,
        r->ca ? ", signature checked" : ""
    );
    *userdata = r;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt* options, int option_count) {
    RM_UNUSED(options);
    RM_UNUSED(option_count);
    struct rm_revocation* r = userdata;
    if (r) {
        rm_callbacks__unregister(r->pid, kCallbacks, kCallbackCount);
        rm_revocation__free(r);
    }
    return MOSQ_ERR_SUCCESS;
}
