/* CURVE keys for the bridge: `keygen`, reading a key file, and the ZAP
 * handler through which a sender accepts only the public keys found in
 * its --curve-allow directory (ZeroMQ RFC 27). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bridge.h"
#include "platform.h"

#define Z85_LEN 40
#define KEY_BYTES 32

/* Reads a key file into key; 0, or -1 with the reason in why. Only a
 * regular file (a symbolic link to one is fine): a named pipe or a device
 * in --curve-allow must not stall the sender's loop, which reads the
 * directory during a handshake. */
static int load_key(char key[BRIDGE_KEY_TEXT], const char *path, const char **why) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    char buf[128];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    size_t n = got > 0 ? (size_t)got : 0;
    buf[n] = '\0';
    size_t start = strspn(buf, " \t\r\n");
    size_t len = strcspn(buf + start, " \t\r\n");
    unsigned char raw[KEY_BYTES];
    if (n == sizeof buf - 1 || len != Z85_LEN ||
        buf[start + len + strspn(buf + start + len, " \t\r\n")] != '\0') {
        *why = "not a key (40 Z85 characters)";
        return -1;
    }
    memcpy(key, buf + start, Z85_LEN);
    key[Z85_LEN] = '\0';
    if (zmq_z85_decode(raw, key) == NULL) {
        *why = "not a key (40 Z85 characters)";
        return -1;
    }
    return 0;
}

int bridge_read_key(char key[BRIDGE_KEY_TEXT], const char *path) {
    const char *why;
    if (load_key(key, path, &why) != 0) {
        bridge_log("cannot read the key '%s': %s", path, why);
        return CLI_ERROR;
    }
    return CLI_OK;
}

int bridge_read_secret(char key[BRIDGE_KEY_TEXT], const char *path) {
    int rc = bridge_read_key(key, path);
    struct stat st;
    /* A warning, not a refusal: the key is read already, and refusing
     * would stop a running installation on an upgrade. keygen writes
     * 0600. */
    if (rc == CLI_OK && stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        bridge_log("warning: the secret key '%s' can be read by others (mode %04o): "
                   "chmod 600 it",
                   path, (unsigned)(st.st_mode & 07777));
    }
    return rc;
}

/* Writes text and a newline to a new file of the given mode. */
static int write_new(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        bridge_log("cannot write '%s': %s", path, strerror(errno));
        return CLI_ERROR;
    }
    char line[BRIDGE_KEY_TEXT + 1];
    snprintf(line, sizeof line, "%s\n", text);
    size_t len = strlen(line);
    int ok = write(fd, line, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        bridge_log("cannot write '%s': %s", path, strerror(errno));
        remove(path);
        return CLI_ERROR;
    }
    return CLI_OK;
}

int bridge_keygen(int argc, char **argv) {
    const char *pos[1] = {"bridge"};
    int npos;
    int rc = cli_parse("bridge", argc, argv, NULL, 0, pos, 0, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    char pub[BRIDGE_KEY_TEXT], sec[BRIDGE_KEY_TEXT];
    if (zmq_curve_keypair(pub, sec) != 0) {
        bridge_log("cannot make a CURVE key pair: %s", zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    char key_path[4096], pub_path[4096];
    if (snprintf(key_path, sizeof key_path, "%s.key", pos[0]) >= (int)sizeof key_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", pos[0]) >= (int)sizeof pub_path) {
        return cli_usage("bridge", "the name '%s' is too long", pos[0]);
    }
    /* The secret key is readable by its owner only; the public one is
     * meant to be copied to the other side. */
    if ((rc = write_new(key_path, sec, 0600)) != CLI_OK) {
        return rc;
    }
    if ((rc = write_new(pub_path, pub, 0644)) != CLI_OK) {
        remove(key_path);
        return rc;
    }
    printf("%s (secret, mode 0600) and %s (public): %s\n", key_path, pub_path, pub);
    return CLI_OK;
}

/* ---- ZAP ---- */

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* version, request id, domain, address, routing id, mechanism, key */
#define ZAP_PARTS 7

int bridge_zap_open(bridge_zap *z, void *ctx, const char *allow_dir) {
    memset(z, 0, sizeof *z);
    z->allow_dir = allow_dir;
    z->socket = bridge_socket(ctx, ZMQ_REP, 16, 16, 4096);
    if (z->socket == NULL) {
        return CLI_ERROR;
    }
    if (zmq_bind(z->socket, ZAP_ENDPOINT) != 0) {
        bridge_log("cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
        zmq_close(z->socket);
        z->socket = NULL;
        return CLI_ERROR;
    }
    return CLI_OK;
}

void bridge_zap_close(bridge_zap *z) {
    if (z->socket != NULL) {
        zmq_close(z->socket);
        z->socket = NULL;
    }
    free(z->keys);
    z->keys = NULL;
    z->nkeys = 0;
}

/* Reads the keys of every .pub file of z->allow_dir again if the
 * directory changed or a second has passed; a refused receiver retries its
 * handshake every few hundred milliseconds, and each one would otherwise
 * cost a listing and a read of every file. On a failure to list, the
 * previous keys are dropped: none is allowed. */
static void refresh_keys(bridge_zap *z, uint64_t now) {
    struct stat st;
    int have = stat(z->allow_dir, &st) == 0;
    if (have && z->read_ns != 0 && now - z->read_ns < 1000000000ull &&
        (int64_t)st.st_mtim.tv_sec == z->dir_sec && (int64_t)st.st_mtim.tv_nsec == z->dir_nsec) {
        return;
    }
    z->read_ns = now;
    z->dir_sec = have ? (int64_t)st.st_mtim.tv_sec : -1;
    z->dir_nsec = have ? (int64_t)st.st_mtim.tv_nsec : -1;
    free(z->keys);
    z->keys = NULL;
    z->nkeys = 0;
    char **names;
    size_t n;
    char err[256];
    if (tool_list_dir(z->allow_dir, &names, &n, err, sizeof err) != 0) {
        bridge_log("cannot list --curve-allow '%s': %s", z->allow_dir, err);
        return;
    }
    z->keys = n > 0 ? malloc(n * sizeof *z->keys) : NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        char path[4096];
        const char *why;
        if (z->keys != NULL && len > 4 && strcmp(names[i] + len - 4, ".pub") == 0 &&
            cli_join(path, sizeof path, z->allow_dir, names[i]) == 0 &&
            load_key(z->keys[z->nkeys], path, &why) == 0) {
            z->nkeys++;
        }
        free(names[i]);
    }
    free(names);
}

/* Whether key (Z85) is allowed: a key added or removed counts from the
 * next handshake after the directory changed, within a second at most. */
static int key_allowed(bridge_zap *z, const char *key, uint64_t now) {
    refresh_keys(z, now);
    for (size_t i = 0; i < z->nkeys; i++) {
        if (strcmp(z->keys[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether key was refused lately; if not, it is remembered now. */
static int refused_before(bridge_zap *z, const char *key) {
    for (unsigned i = 0; i < BRIDGE_ZAP_REMEMBERED; i++) {
        if (strcmp(z->refused_keys[i], key) == 0) {
            return 1;
        }
    }
    memcpy(z->refused_keys[z->refused_next], key, BRIDGE_KEY_TEXT);
    z->refused_next = (z->refused_next + 1) % BRIDGE_ZAP_REMEMBERED;
    return 0;
}

static void send_part(void *s, const void *data, size_t len, int more) {
    zmq_send(s, data, len, more ? ZMQ_SNDMORE : 0);
}

/* Answers one request of n parts, the first ones in parts. */
static void answer(bridge_zap *z, zmq_msg_t *parts, int n) {
    const char *status = "400";
    const char *text = "malformed request";
    char key[BRIDGE_KEY_TEXT] = "";
    if (n == ZAP_PARTS && zmq_msg_size(&parts[0]) == 3 &&
        memcmp(zmq_msg_data(&parts[0]), "1.0", 3) == 0 && zmq_msg_size(&parts[5]) == 5 &&
        memcmp(zmq_msg_data(&parts[5]), "CURVE", 5) == 0 && zmq_msg_size(&parts[6]) == KEY_BYTES) {
        zmq_z85_encode(key, zmq_msg_data(&parts[6]), KEY_BYTES);
        if (key_allowed(z, key, mmpool_now_ns())) {
            status = "200";
            text = "OK";
        } else {
            text = "key not allowed";
            z->refused++;
            /* Once per key (of the last few): a refused receiver retries
             * its handshake every few hundred milliseconds. */
            if (!refused_before(z, key)) {
                char addr[64] = "";
                size_t alen = zmq_msg_size(&parts[3]);
                alen = alen < sizeof addr - 1 ? alen : sizeof addr - 1;
                memcpy(addr, zmq_msg_data(&parts[3]), alen);
                char shown[64];
                bridge_log("refused a receiver from %s: its key %s is not in '%s'",
                           cli_text(shown, sizeof shown, addr), key, z->allow_dir);
            }
        }
    }
    send_part(z->socket, "1.0", 3, 1);
    if (n >= 2) {
        send_part(z->socket, zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), 1);
    } else {
        send_part(z->socket, "", 0, 1);
    }
    send_part(z->socket, status, 3, 1);
    send_part(z->socket, text, strlen(text), 1);
    send_part(z->socket, status[0] == '2' ? key : "", status[0] == '2' ? Z85_LEN : 0, 1);
    send_part(z->socket, "", 0, 0);
}

void bridge_zap_serve(bridge_zap *z) {
    zmq_msg_t parts[ZAP_PARTS];
    int n;
    while ((n = bridge_take(z->socket, parts, ZAP_PARTS)) > 0) {
        answer(z, parts, n);
        for (int i = 0; i < n && i < ZAP_PARTS; i++) {
            zmq_msg_close(&parts[i]);
        }
    }
}
